"""Results, indicators and their periods: what becomes targets and progress in the hub."""

from __future__ import annotations

from typing import Any

from connectors.iati.reader import Reader, attribute
from connectors.iati.records import (
    Baseline,
    Dimension,
    Indicator,
    IndicatorReference,
    Measurement,
    Narrative,
    Period,
    Problem,
    Result,
)


class ResultReader:
    """Reads ``result`` elements, noting problems with the activity's :class:`Reader`."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    def result(self, element: Any, where: str) -> Result:
        """One result and its indicators."""
        return Result(
            type=attribute(element, "type"),
            title=self._text_of(element, "title"),
            description=self._text_of(element, "description"),
            indicators=self.reader.each(element, "indicator", self._indicator, where),
        )

    def _text_of(self, element: Any, tag: str) -> tuple[Narrative, ...]:
        return tuple(n for child in element.iterfind(tag) for n in self.reader.narratives(child))

    def _indicator(self, element: Any, where: str) -> Indicator:
        own: list[Problem] = []
        return Indicator(
            title=self._text_of(element, "title"),
            description=self._text_of(element, "description"),
            measure=attribute(element, "measure"),
            ascending=self.reader.boolean(
                own, element, f"{where}/@ascending", attribute(element, "ascending")
            ),
            references=tuple(
                IndicatorReference(attribute(r, "vocabulary"), attribute(r, "code"))
                for r in element.iterfind("reference")
            ),
            baselines=self.reader.each(element, "baseline", self._baseline, where),
            periods=self.reader.each(element, "period", self._period, where),
            problems=tuple(own),
        )

    def _baseline(self, element: Any, where: str) -> Baseline:
        own: list[Problem] = []
        return Baseline(
            year=self.reader.integer(own, element, f"{where}/@year", attribute(element, "year")),
            iso_date=self.reader.date_from(
                own, element, f"{where}/@iso-date", attribute(element, "iso-date")
            ),
            measurement=self._measurement(element, where),
            problems=tuple(own),
        )

    def _period(self, element: Any, where: str) -> Period:
        own: list[Problem] = []
        start = self.reader.one(element, "period-start", own, where)
        end = self.reader.one(element, "period-end", own, where)
        return Period(
            start=self.reader.date_of(own, start, f"{where}/period-start"),
            end=self.reader.date_of(own, end, f"{where}/period-end"),
            targets=self.reader.each(element, "target", self._measurement, where),
            actuals=self.reader.each(element, "actual", self._measurement, where),
            problems=tuple(own),
        )

    def _measurement(self, element: Any, where: str) -> Measurement:
        own: list[Problem] = []
        raw = attribute(element, "value")
        return Measurement(
            value=self.reader.number(own, element, f"{where}/@value", raw),
            raw=raw,
            dimensions=tuple(
                Dimension(attribute(d, "name"), attribute(d, "value"))
                for d in element.iterfind("dimension")
            ),
            locations=tuple(
                ref for loc in element.iterfind("location") if (ref := attribute(loc, "ref"))
            ),
            problems=tuple(own),
        )
