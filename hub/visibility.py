"""The one visibility rule: what a viewer may see of the pledge graph.

Every query and loader that reads pledges, endorsements, targets, flows or progress reports
takes its conditions from here, so nothing reaches a caller by a side path. Anonymous
viewers see published and fulfilled pledges, and withdrawn ones that were once published
(a public commitment does not silently disappear); accepted endorsements; progress reports
that were not rejected; and targets and money flows of the pledges they see. Partner rights
will widen these conditions here, and only here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select

from hub.endorsements.models import Endorsement, EndorsementStatus
from hub.pledges.models import Pledge, PublicationStatus
from hub.progress.models import ProgressReport, ReportStatus


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking. Only the anonymous public exists so far."""

    anonymous: bool = True


PUBLIC = Viewer()


def pledge_visible(viewer: Viewer) -> ColumnElement[bool]:
    """Pledges the viewer may see."""
    return or_(
        Pledge.publication_status.in_([PublicationStatus.PUBLISHED, PublicationStatus.FULFILLED]),
        and_(
            Pledge.publication_status == PublicationStatus.WITHDRAWN,
            Pledge.published_at.is_not(None),
        ),
    )


def visible_pledge_ids(viewer: Viewer) -> Select[int]:
    """The ids of the pledges the viewer may see, as a subquery to filter by."""
    return select(Pledge.id).where(pledge_visible(viewer))


def endorsement_visible(viewer: Viewer) -> ColumnElement[bool]:
    """Endorsements the viewer may see: accepted ones, on pledges the viewer sees."""
    return and_(
        Endorsement.status == EndorsementStatus.ACCEPTED,
        Endorsement.pledge_id.in_(visible_pledge_ids(viewer)),
    )


def report_visible(viewer: Viewer) -> ColumnElement[bool]:
    """Progress reports the viewer may see: not rejected, on pledges the viewer sees."""
    return and_(
        ProgressReport.status != ReportStatus.REJECTED,
        ProgressReport.pledge_id.in_(visible_pledge_ids(viewer)),
    )
