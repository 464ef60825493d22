"""The one visibility rule: what a viewer may see of the pledge graph.

Every query and loader that reads pledges, endorsements, targets, flows or progress reports
takes its conditions from here, so nothing reaches a caller by a side path.

- Anonymous viewers see published and fulfilled pledges, and withdrawn ones that were once
  published (a public commitment does not silently disappear); accepted endorsements; progress
  reports that were not rejected; and targets and money flows of the pledges they see.
- A member (through a partner's or a connector's token) sees that too, and besides: the
  pledges it leads and those it is invited to or endorses, drafts included; every endorsement
  of the pledges it leads and each of its own, whatever their status (its own on a draft it no
  longer takes part in shows no pledge); and the reports on the pledges it leads and those it
  made itself, rejected ones included.
- The secretariat and auditors see everything.

Seeing is not counting: an organisation *endorses* a pledge only when it accepted
(``endorses``), and only reports that were not rejected measure progress (``report_counts``),
so counts, filters and measures mean the same for every viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, or_, select, true

from hub.endorsements.models import Endorsement, EndorsementStatus
from hub.pledges.models import Pledge, PublicationStatus
from hub.progress.models import ProgressReport, ReportStatus


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking, as far as seeing goes: the public, one member, or everything."""

    member_id: int | None = None
    sees_all: bool = False


PUBLIC = Viewer()

TAKING_PART = (EndorsementStatus.INVITED, EndorsementStatus.ACCEPTED)
"""Endorsement statuses that let a member see a pledge before it is public."""


def _public_pledge() -> ColumnElement[bool]:
    return or_(
        Pledge.publication_status.in_([PublicationStatus.PUBLISHED, PublicationStatus.FULFILLED]),
        and_(
            Pledge.publication_status == PublicationStatus.WITHDRAWN,
            Pledge.published_at.is_not(None),
        ),
    )


def _led_by(member_id: int) -> Select[int]:
    return select(Pledge.id).where(Pledge.lead_member_id == member_id)


def pledge_visible(viewer: Viewer) -> ColumnElement[bool]:
    """Pledges the viewer may see."""
    if viewer.sees_all:
        return true()
    if viewer.member_id is None:
        return _public_pledge()
    taking_part = select(Endorsement.pledge_id).where(
        Endorsement.organisation_id == viewer.member_id, Endorsement.status.in_(TAKING_PART)
    )
    return or_(
        _public_pledge(), Pledge.lead_member_id == viewer.member_id, Pledge.id.in_(taking_part)
    )


def visible_pledge_ids(viewer: Viewer) -> Select[int]:
    """The ids of the pledges the viewer may see, as a subquery to filter by."""
    return select(Pledge.id).where(pledge_visible(viewer))


def endorsement_counts() -> ColumnElement[bool]:
    """What makes an endorsement count, on a pledge the viewer sees: it was accepted."""
    return Endorsement.status == EndorsementStatus.ACCEPTED


def endorses(viewer: Viewer) -> ColumnElement[bool]:
    """Endorsements that count, on pledges the viewer sees: accepted ones only, whoever asks.

    Counts, totals and filters by endorser use this; an invitation or a refusal is seen by
    those it concerns but is never an endorsement.
    """
    return and_(endorsement_counts(), Endorsement.pledge_id.in_(visible_pledge_ids(viewer)))


def endorsement_visible(viewer: Viewer) -> ColumnElement[bool]:
    """Endorsements the viewer may see listed: those that count, a member's own whatever
    the pledge (an invitation to a draft that was revoked, or that it declined, stays its
    own record, though the draft is hidden again), and every one of the pledges it leads,
    whatever their status."""
    if viewer.sees_all:
        return true()
    if viewer.member_id is None:
        return endorses(viewer)
    return or_(
        endorses(viewer),
        Endorsement.organisation_id == viewer.member_id,
        Endorsement.pledge_id.in_(_led_by(viewer.member_id)),
    )


def report_measures() -> ColumnElement[bool]:
    """What makes a progress report's values count, on a pledge the viewer sees: it was not
    rejected."""
    return ProgressReport.status != ReportStatus.REJECTED


def report_counts(viewer: Viewer) -> ColumnElement[bool]:
    """Progress reports whose values count, on pledges the viewer sees: those not rejected,
    whoever asks (a rejected report is seen by those it concerns but measures nothing)."""
    return and_(report_measures(), ProgressReport.pledge_id.in_(visible_pledge_ids(viewer)))


def report_visible(viewer: Viewer) -> ColumnElement[bool]:
    """Progress reports the viewer may see listed: those that count, and a member's own and
    those on the pledges it leads, rejected ones included."""
    if viewer.sees_all:
        return true()
    if viewer.member_id is None:
        return report_counts(viewer)
    return or_(
        report_counts(viewer),
        ProgressReport.reporting_member_id == viewer.member_id,
        ProgressReport.pledge_id.in_(_led_by(viewer.member_id)),
    )
