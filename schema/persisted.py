"""Automatic persisted queries (Apollo's APQ protocol), so the website's GETs are short.

A client sends ``extensions.persistedQuery.sha256Hash``: without the query, the hub runs the
query it stored under that hash, or answers ``PersistedQueryNotFound``; with the query, the
hub checks the hash and stores it. Documents are kept in a bounded, least-recently-used
store per process (a client whose hash is unknown to a process simply sends the query again).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from threading import Lock

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

MAX_DOCUMENT_BYTES = 64_000


class QueryStore:
    """A map from SHA-256 hashes to query documents, bounded in bytes, least recently used
    out first (anyone can mint hashes, so the bound is what keeps memory flat)."""

    def __init__(self, max_bytes: int = 4_000_000) -> None:
        self.max_bytes = max_bytes
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()

    def get(self, digest: str) -> str | None:
        with self._lock:
            document = self._documents.get(digest)
            if document is not None:
                self._documents.move_to_end(digest)
            return document

    def put(self, digest: str, document: str) -> None:
        with self._lock:
            if digest in self._documents:
                self._documents.move_to_end(digest)
                return
            self._documents[digest] = document
            self._bytes += len(document)
            while self._bytes > self.max_bytes and self._documents:
                _, dropped = self._documents.popitem(last=False)
                self._bytes -= len(dropped)


def persisted_queries(store: QueryStore) -> Callable[[], SchemaExtension]:
    """A factory of the extension that serves and stores persisted queries from ``store``."""

    class PersistedQueries(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            context = self.execution_context
            persisted = (context.operation_extensions or {}).get("persistedQuery")
            if isinstance(persisted, dict):
                self._apply(persisted)
            yield

        def _apply(self, persisted: dict[str, object]) -> None:
            context = self.execution_context
            digest = persisted.get("sha256Hash")
            if persisted.get("version") != 1 or not isinstance(digest, str):
                raise GraphQLError(
                    "persistedQuery needs version 1 and a sha256Hash",
                    extensions={"code": "PERSISTED_QUERY_INVALID"},
                )
            if context.query:
                actual = hashlib.sha256(context.query.encode()).hexdigest()
                if actual != digest.lower():
                    raise GraphQLError(
                        "provided sha does not match query",
                        extensions={"code": "PERSISTED_QUERY_HASH_MISMATCH"},
                    )
                if len(context.query.encode()) <= MAX_DOCUMENT_BYTES:
                    store.put(actual, context.query)
                return
            document = store.get(digest.lower())
            if document is None:
                raise GraphQLError(
                    "PersistedQueryNotFound", extensions={"code": "PERSISTED_QUERY_NOT_FOUND"}
                )
            context.query = document

    return PersistedQueries
