"""With ``HUB_DEBUG``, each response says how many SQL statements it took and for how long."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from hub.sqlstats import StatementStats, counting


class QueryStats(SchemaExtension):
    """Adds ``extensions.sql = {statements, milliseconds}`` to the response."""

    stats: StatementStats | None = None

    def on_operation(self) -> Iterator[None]:
        with counting() as stats:
            self.stats = stats
            yield

    def get_results(self) -> dict[str, Any]:
        if self.stats is None:
            return {}
        return {
            "sql": {
                "statements": self.stats.statements,
                "milliseconds": round(self.stats.seconds * 1000, 2),
            }
        }
