"""The auditors' root fields (scope ``audit:read``): the trail, the endorsement trail, signed
tree heads and the proofs that check the log against them (docs/audit.md)."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from hub.audit.canonical import canonical
from hub.audit.heads import newest_head
from hub.audit.ledger import document
from hub.audit.models import AuditEvent as EventModel
from hub.audit.models import TreeHead as HeadModel
from hub.audit.notes import NoteError, read
from hub.audit.queries import EndorsementStep as Step
from hub.audit.queries import (
    Logged,
    TrailFilter,
    endorsement_trail,
    trail_page,
)
from hub.audit.tree import consistency_proof, inclusion_proof, root_at
from hub.auth.scopes import Scope
from hub.authorization import holds_any_scope, require_any_scope
from hub.errors import HubError, InvalidInput
from schema.context import Info
from schema.organisations import Organisation
from schema.pagination import (
    After,
    Before,
    First,
    Last,
    build_connection,
    fingerprint,
    key_of,
    node_key,
    slice_of,
)

AUDIT_READ = frozenset({Scope.AUDIT_READ})
ENTITIES = ("Pledge", "Organisation", "Endorsement", "ProgressReport")
"""The node types whose trail can be asked for by global id."""


@strawberry.type(description="Who made a change, and through what.")
class AuditActor:
    kind: str = strawberry.field(
        description="PARTNER, CONNECTOR, SECRETARIAT or AUDITOR (the console acts as "
        "SECRETARIAT), or ANONYMOUS."
    )
    client_id: str | None = strawberry.field(
        description="The OAuth client (console at the command line)."
    )
    operator: str | None = strawberry.field(
        description="The account that ran p2c-hub at the console."
    )
    connector: str | None = strawberry.field(description="The connector, for its writes.")
    sync_run_id: int | None = strawberry.field(description="The connector's run.")
    member_id: strawberry.Private[int | None]

    @strawberry.field(description="The member the client acted for.")
    async def member(self, info: Info) -> Organisation | None:
        if self.member_id is None:
            return None
        return await Organisation.load(info, self.member_id)


@strawberry.type(description="One change recorded in the audit ledger.")
class AuditEvent(relay.Node):
    key: relay.NodeID[int]
    event_id: int = strawberry.field(description="The event's number (inclusionProof takes it).")
    leaf_index: int | None = strawberry.field(
        description="Its leaf in the log; null until it is sequenced (about a second after "
        "its transaction)."
    )
    time: datetime = strawberry.field(description="When the change was made.")
    action: str = strawberry.field(description="What was done, such as pledge.publish.")
    actor: AuditActor = strawberry.field(description="Who did it, and through what.")
    entity_type: str = strawberry.field(description="The kind of record, such as Pledge.")
    entity_id: str = strawberry.field(description="The record's key in the hub.")
    changes: JSON = strawberry.field(
        description='Each field that changed: {"before": …, "after": …} (secrets withheld).'
    )
    request_id: str | None = strawberry.field(description="The HTTP request (X-Request-Id).")
    idempotency_key: str | None = strawberry.field(description="The request's Idempotency-Key.")
    event_hash: str = strawberry.field(description="SHA-256 of the canonical form, in hex.")
    leaf_hash: str | None = strawberry.field(
        description="SHA-256(0x00 ‖ canonical form), in hex, once sequenced."
    )
    canonical_form: str = strawberry.field(
        description="The exact canonical JSON the hashes are computed over (README)."
    )

    @classmethod
    def from_logged(cls, logged: Logged) -> AuditEvent:
        event: EventModel = logged.event
        return cls(
            key=event.id,
            event_id=event.id,
            leaf_index=logged.leaf.leaf_number if logged.leaf is not None else None,
            time=event.occurred_at,
            action=event.action,
            actor=AuditActor(
                kind=event.actor_kind,
                client_id=event.actor_client_id,
                operator=event.actor_operator,
                connector=event.connector,
                sync_run_id=event.sync_run_id,
                member_id=event.actor_member_id,
            ),
            entity_type=event.entity_type,
            entity_id=event.entity_id,
            changes=document(event)["changes"],
            request_id=event.request_id,
            idempotency_key=event.idempotency_key,
            event_hash=event.event_hash,
            leaf_hash=logged.leaf.leaf_hash if logged.leaf is not None else None,
            canonical_form=canonical(document(event)).decode("utf-8"),
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[AuditEvent | None]:
        """Events by id, for a caller with audit:read; hidden from every other."""
        keys = [key if (key := node_key(i)) is not None else -1 for i in node_ids]
        if not holds_any_scope(info.context.principal, AUDIT_READ):
            return [None for _ in keys]
        found = await info.context.loaders.audit_event.load_many(keys)
        return [cls.from_logged(logged) if logged is not None else None for logged in found]


@strawberry.type(description="A page of audit events.")
class AuditEventConnection(relay.Connection[AuditEvent]):
    total_count: int = strawberry.field(description="How many there are, on all pages.")


@strawberry.enum(description="A step in an endorsement's life.")
class EndorsementStepKind(enum.Enum):
    INVITE = strawberry.enum_value("endorsement.invite", description="Invited (again).")
    ACCEPT = strawberry.enum_value("endorsement.accept", description="Accepted.")
    DECLINE = strawberry.enum_value("endorsement.decline", description="Declined.")
    REVOKE = strawberry.enum_value(
        "endorsement.revoke",
        description="Revoked: by the lead, or by the endorser taking back its acceptance.",
    )
    RESET = strawberry.enum_value(
        "endorsement.reset",
        description="Put back to INVITED by a material edit of the pledge it had accepted.",
    )


@strawberry.type(description="A step of an endorsement, with the pledge's terms at that moment.")
class EndorsementStep(relay.Node):
    key: relay.NodeID[int]
    event: AuditEvent = strawberry.field(description="The event: who, when, through what.")
    step: EndorsementStepKind = strawberry.field(description="What the step was.")
    endorsement_id: relay.GlobalID = strawberry.field(description="The endorsement's id.")
    pledge_id: relay.GlobalID = strawberry.field(description="The pledge's id.")
    terms: JSON = strawberry.field(
        description="The pledge's terms when the step was taken, rebuilt from the ledger: "
        "each field and part (countries, targets…) as last recorded before it."
    )
    organisation_id: strawberry.Private[int]

    @strawberry.field(description="The endorsing organisation.")
    async def organisation(self, info: Info) -> Organisation:
        return await Organisation.load(info, self.organisation_id)

    @classmethod
    def from_step(cls, step: Step) -> EndorsementStep:
        return cls(
            key=step.logged.event.id,
            event=AuditEvent.from_logged(step.logged),
            step=EndorsementStepKind(step.logged.event.action),
            endorsement_id=relay.GlobalID("Endorsement", str(step.endorsement_id)),
            pledge_id=relay.GlobalID("Pledge", str(step.pledge_id)),
            terms=JSON(step.terms),
            organisation_id=step.organisation_id,
        )

    @classmethod
    async def load_nodes(cls, info: Info, node_ids: Iterable[str]) -> list[EndorsementStep | None]:
        """Steps by the id of their event, for a caller with audit:read."""
        keys = [key if (key := node_key(i)) is not None else -1 for i in node_ids]
        if not holds_any_scope(info.context.principal, AUDIT_READ):
            return [None for _ in keys]
        found = await info.context.loaders.endorsement_step.load_many(keys)
        return [cls.from_step(step) if step is not None else None for step in found]


@strawberry.type(description="A page of endorsement steps.")
class EndorsementTrailConnection(relay.Connection[EndorsementStep]):
    total_count: int = strawberry.field(description="How many there are, on all pages.")


@strawberry.type(description="A signed tree head: the log's size and root, signed by the hub.")
class TreeHead:
    tree_size: int = strawberry.field(description="How many leaves the tree holds.")
    root_hash: str = strawberry.field(description="The RFC 9162 root, in hex.")
    signed_at: datetime = strawberry.field(description="When it was signed (to the second).")
    key_id: str = strawberry.field(description="The signing key: its name and key id.")
    note: str = strawberry.field(
        description="The signed note itself, byte for byte (docs/audit.md): check its "
        "signature with the hub's published verifier key."
    )

    @classmethod
    def from_model(cls, head: HeadModel) -> TreeHead:
        """What the signed note says (the columns beside it only find it)."""
        try:
            checkpoint, _, signatures = read(head.note)
        except NoteError as error:
            raise HubError(
                f"tree head {head.id} is not a signed tree head ({error}): the database was "
                "changed",
                code="HEAD_UNREADABLE",
            ) from None
        return cls(
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash.hex(),
            signed_at=checkpoint.time,
            key_id=f"{signatures[0].name}+{signatures[0].key_id.hex()}",
            note=head.note,
        )


@strawberry.type(description="That an event is a leaf of the tree of a given size (RFC 9162).")
class InclusionProof:
    event_id: int = strawberry.field(description="The event.")
    leaf_index: int = strawberry.field(description="Its leaf.")
    tree_size: int = strawberry.field(description="The tree's size.")
    leaf_hash: str = strawberry.field(description="The leaf's hash, in hex.")
    root_hash: str = strawberry.field(
        description="The tree's root, in hex: compare it with a signed head's."
    )
    path: list[str] = strawberry.field(
        description="The proof's hashes, in hex, in RFC 9162 section 2.1.3 order."
    )


@strawberry.type(description="That a tree extends an earlier one (RFC 9162 section 2.1.4).")
class ConsistencyProof:
    from_size: int = strawberry.field(description="The earlier tree's size.")
    to_size: int = strawberry.field(description="The later tree's size.")
    from_root: str = strawberry.field(description="The earlier tree's root, in hex.")
    to_root: str = strawberry.field(description="The later tree's root, in hex.")
    path: list[str] = strawberry.field(
        description="The proof's hashes, in hex, in RFC 9162 section 2.1.4 order."
    )


def _auditor(info: Info) -> None:
    require_any_scope(info.context.principal, AUDIT_READ)


def _aware(value: datetime | None, name: str) -> datetime | None:
    """``value`` in UTC; refused without an offset, or beyond the calendar once in UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidInput(f"give {name} with a UTC offset", code="NAIVE_TIME", field=(name,))
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(
            f"{name} is beyond the years 1 to 9999 in UTC", code="TIME_OUT_OF_RANGE", field=(name,)
        ) from None


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The audit trail, oldest first (scope audit:read): each criterion given "
        "narrows it."
    )
    async def audit_trail(
        self,
        info: Info,
        entity_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(
                description="A Pledge, Organisation, Endorsement or ProgressReport: its events."
            ),
        ] = None,
        actor: Annotated[
            str | None,
            strawberry.argument(
                description="A client id, a connector's name or a console operator."
            ),
        ] = None,
        action: Annotated[
            str | None,
            strawberry.argument(
                description="An action (pledge.publish) or a family of them (pledge)."
            ),
        ] = None,
        since: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="From this time on (included)."),
        ] = None,
        until: Annotated[
            datetime | None,
            strawberry.argument(name="to", description="Before this time (excluded)."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> AuditEventConnection:
        _auditor(info)
        entity: tuple[str, str] | tuple[None, None] = (None, None)
        if entity_id is not None:
            if entity_id.type_name not in ENTITIES:
                raise InvalidInput(
                    f"{entity_id} is not the id of a {', '.join(ENTITIES)}",
                    code="INVALID_ID",
                    field=("entityId",),
                )
            key = key_of(entity_id, entity_id.type_name, ("entityId",))
            entity = (entity_id.type_name, str(key))
        criteria = TrailFilter(
            entity_type=entity[0],
            entity_id=entity[1],
            actor=actor,
            action=action,
            since=_aware(since, "from"),
            until=_aware(until, "to"),
        )
        kind = f"audit/{fingerprint(criteria)}"
        request = slice_of(kind, first, after, last, before)
        async with info.context.session_factory() as session:
            page, span = await trail_page(session, criteria, request)
        return build_connection(
            AuditEventConnection, page, span, kind=kind, to_node=AuditEvent.from_logged
        )

    @strawberry.field(
        description="Every invitation, acceptance, decline, revocation and reset of the "
        "endorsements of a pledge or of an organisation, oldest first, each with the pledge's "
        "terms at that moment (scope audit:read)."
    )
    async def endorsement_trail(
        self,
        info: Info,
        pledge_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="The pledge's endorsements.")
        ] = None,
        member_id: Annotated[
            relay.GlobalID | None,
            strawberry.argument(description="An organisation's endorsements, of any pledge."),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> EndorsementTrailConnection:
        _auditor(info)
        if (pledge_id is None) == (member_id is None):
            raise InvalidInput(
                "give pledgeId or memberId, one of them", code="ONE_OF", field=("pledgeId",)
            )
        pledge = key_of(pledge_id, "Pledge", ("pledgeId",)) if pledge_id else None
        member = key_of(member_id, "Organisation", ("memberId",)) if member_id else None
        kind = f"endorsement-trail/{fingerprint(pledge, member)}"
        request = slice_of(kind, first, after, last, before)
        async with info.context.session_factory() as session:
            steps, span = await endorsement_trail(session, pledge, member, request)
        return build_connection(
            EndorsementTrailConnection,
            steps,
            span,
            kind=kind,
            to_node=EndorsementStep.from_step,
        )

    @strawberry.field(
        description="The newest signed tree head, or the newest of treeSize leaves; null when "
        "there is none (none signed yet, or none of that size) (scope audit:read)."
    )
    async def tree_head(
        self,
        info: Info,
        tree_size: Annotated[
            int | None, strawberry.argument(description="A head of this size.")
        ] = None,
    ) -> TreeHead | None:
        _auditor(info)
        async with info.context.session_factory() as session:
            head = await newest_head(session, tree_size)
        return TreeHead.from_model(head) if head is not None else None

    @strawberry.field(
        description="The proof that an event is in the tree of treeSize leaves (scope audit:read)."
    )
    async def inclusion_proof(
        self,
        info: Info,
        event_id: Annotated[int, strawberry.argument(description="The event (its eventId).")],
        tree_size: Annotated[int, strawberry.argument(description="The tree's size.")],
    ) -> InclusionProof:
        _auditor(info)
        async with info.context.session_factory() as session:
            proof = await inclusion_proof(session, event_id, tree_size)
            root = await root_at(session, tree_size)
        return InclusionProof(
            event_id=proof.event_id,
            leaf_index=proof.leaf_index,
            tree_size=proof.tree_size,
            leaf_hash=proof.leaf_hash.hex(),
            root_hash=root.hex(),
            path=[digest.hex() for digest in proof.path],
        )

    @strawberry.field(
        description="The proof that the tree of toSize leaves extends the tree of fromSize "
        "(scope audit:read)."
    )
    async def consistency_proof(
        self,
        info: Info,
        from_size: Annotated[int, strawberry.argument(description="The earlier tree's size.")],
        to_size: Annotated[int, strawberry.argument(description="The later tree's size.")],
    ) -> ConsistencyProof:
        _auditor(info)
        async with info.context.session_factory() as session:
            path = await consistency_proof(session, from_size, to_size)
            roots = [await root_at(session, size) for size in (from_size, to_size)]
        return ConsistencyProof(
            from_size=from_size,
            to_size=to_size,
            from_root=roots[0].hex(),
            to_root=roots[1].hex(),
            path=[digest.hex() for digest in path],
        )
