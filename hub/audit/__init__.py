"""The audit ledger: every state change recorded in the writing transaction, then sequenced
into a gapless, hash-chained, append-only log, which forms an RFC 9162 Merkle tree whose
signed heads leave the hub (docs/audit.md).

- ``canonical``: the exact bytes an event stands for, and their hashes (pure).
- ``models``: the events, leaves, subtrees and heads tables (insert-only: triggers refuse edits).
- ``ledger``: ``record``, the one function that writes an event.
- ``sequencer``: numbers committed events, in a commit-safe order, shortly after commit.
- ``merkle``: the tree, its proofs and their checks (pure); ``tree``: the same over the store.
- ``notes``: tree heads as C2SP signed notes (pure); ``heads``: signing them on a schedule.
- ``delivery``: sending heads to targets the database's administrators do not control.
- ``export``: the log as JSON lines for auditors; ``queries``: what auditors read in GraphQL.
- ``verify``: recomputes the log from the database and names the first thing that is wrong.
"""
