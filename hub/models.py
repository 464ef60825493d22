"""Every model, imported in one place so the metadata is complete for migrations and tests."""

from __future__ import annotations

from hub.audit.models import AuditEvent, AuditLeaf, AuditNode, HeadDelivery, TreeHead
from hub.auth.models import OAuthClient, RevokedToken
from hub.budget import CostBudgetWindow
from hub.countries.models import (
    ChangeKind,
    ChangeStatus,
    Country,
    CountryGroup,
    CountryGroupChange,
    CountryGroupMembership,
)
from hub.db import Base
from hub.endorsements.models import Endorsement, EndorsementRole, EndorsementStatus, Role
from hub.idempotency import IdempotencyRecord
from hub.imports.models import (
    Connector,
    ConnectorKind,
    DeadLetter,
    ReviewEntry,
    SourceRecord,
    SyncRun,
)
from hub.keys.models import KeyPurpose, ServerKey
from hub.money.models import CurrencyRecord, ExchangeRate, MoneyFlow, TransactionKind
from hub.organisations.models import (
    MembershipStatus,
    Organisation,
    OrganisationIdentifier,
    OrganisationType,
)
from hub.pledges.models import (
    BeneficiaryGroup,
    Direction,
    FocusArea,
    ImplementationStatus,
    Indicator,
    Measure,
    Pledge,
    PledgeBeneficiaryGroup,
    PledgeFocusArea,
    PledgeSdg,
    PledgeTargetCountry,
    PledgeTargetGroup,
    PledgeText,
    PledgeType,
    PublicationStatus,
    Target,
    TextField,
)
from hub.progress.models import EvidenceLink, ProgressReport, ProgressValue, ReportStatus

__all__ = [
    "AuditEvent",
    "AuditLeaf",
    "AuditNode",
    "Base",
    "BeneficiaryGroup",
    "ChangeKind",
    "ChangeStatus",
    "Connector",
    "ConnectorKind",
    "CostBudgetWindow",
    "Country",
    "CountryGroup",
    "CountryGroupChange",
    "CountryGroupMembership",
    "CurrencyRecord",
    "DeadLetter",
    "Direction",
    "Endorsement",
    "EndorsementRole",
    "EndorsementStatus",
    "EvidenceLink",
    "ExchangeRate",
    "FocusArea",
    "HeadDelivery",
    "IdempotencyRecord",
    "ImplementationStatus",
    "Indicator",
    "KeyPurpose",
    "Measure",
    "MembershipStatus",
    "MoneyFlow",
    "OAuthClient",
    "Organisation",
    "OrganisationIdentifier",
    "OrganisationType",
    "Pledge",
    "PledgeBeneficiaryGroup",
    "PledgeFocusArea",
    "PledgeSdg",
    "PledgeTargetCountry",
    "PledgeTargetGroup",
    "PledgeText",
    "PledgeType",
    "ProgressReport",
    "ProgressValue",
    "PublicationStatus",
    "ReportStatus",
    "ReviewEntry",
    "RevokedToken",
    "Role",
    "ServerKey",
    "SourceRecord",
    "SyncRun",
    "Target",
    "TextField",
    "TransactionKind",
    "TreeHead",
]
