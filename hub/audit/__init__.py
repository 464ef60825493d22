"""The audit ledger: every state change recorded in the writing transaction, then sequenced
into a gapless, hash-chained, append-only log.

- ``canonical``: the exact bytes an event stands for, and their hashes (pure).
- ``models``: the events and leaves tables (insert-only: triggers refuse edits).
- ``actor``: who a session's changes are made by (a client, the console, a connector).
- ``ledger``: ``record``, the one function that writes an event.
- ``sequencer``: numbers committed events, in a commit-safe order, shortly after commit.
- ``verify``: recomputes the log from the database and names the first thing that is wrong.
"""
