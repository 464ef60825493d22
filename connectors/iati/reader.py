"""Forgiving conversions shared by the activity's readers.

Every conversion keeps going on bad input: it returns None and notes a :class:`Problem` on
both the record being built and the whole activity, so the caller still gets a record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from connectors.iati.records import Narrative, Problem

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# xsd:decimal: no exponent, no thousands separator, no NaN
DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# xsd:date, tolerating a time as some publishers write xsd:dateTime
DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T[\d:.]+)?(?:Z|[+-]\d{2}:\d{2})?")
BOOLEANS = {"1": True, "true": True, "0": False, "false": False}

C = TypeVar("C")
R = TypeVar("R")


def attribute(element: Any, name: str) -> str | None:
    """An attribute without surrounding blanks; empty counts as absent, as publishers mean it."""
    value = element.get(name)
    return (value.strip() or None) if value is not None else None


def own_text(element: Any) -> str | None:
    """The element's own text (not its children's), stripped; None when blank."""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return "".join(parts).strip() or None


class Reader:
    """Notes problems for one activity and converts its values."""

    def __init__(self, default_lang: str | None) -> None:
        self.default_lang = default_lang
        self.problems: list[Problem] = []

    def note(self, own: list[Problem], element: Any, where: str, message: str) -> None:
        """Record a problem on the record being built and on the activity."""
        problem = Problem(element.sourceline if element is not None else None, where, message)
        own.append(problem)
        self.problems.append(problem)

    def one(self, element: Any, tag: str, own: list[Problem], where: str = "") -> Any | None:
        """The first ``tag`` child; more than one is a problem, since the rest are not read."""
        found = element.findall(tag)
        if len(found) > 1:
            path = f"{where}/{tag}" if where else tag
            self.note(own, found[1], path, f"{len(found)} <{tag}> elements: only the first is read")
        return found[0] if found else None

    def each(
        self, element: Any, tag: str, read: Callable[[Any, str], R], where: str = ""
    ) -> tuple[R, ...]:
        """``read`` applied to every ``tag`` child, told its path (``transaction[3]``)."""
        prefix = f"{where}/" if where else ""
        return tuple(
            read(child, f"{prefix}{tag}[{index}]")
            for index, child in enumerate(element.iterfind(tag), 1)
        )

    def narratives(self, element: Any) -> tuple[Narrative, ...]:
        """Version 2 ``narrative`` children, or version 1 text, each with its language."""
        lang = element.get(XML_LANG) or self.default_lang
        children = element.findall("narrative")
        if not children:
            text = own_text(element)
            return (Narrative(text, lang),) if text is not None else ()
        return tuple(
            Narrative(text, child.get(XML_LANG) or lang)
            for child in children
            if (text := own_text(child)) is not None
        )

    def code(
        self,
        own: list[Problem],
        element: Any,
        where: str,
        raw: str | None,
        codes: Mapping[str, C],
    ) -> C | None:
        """``raw`` looked up in a codelist, ignoring case and spacing."""
        if raw is None:
            return None
        found = codes.get(" ".join(raw.split()).lower())
        if found is None:
            self.note(own, element, where, f"not a known code: {raw!r}")
        return found

    def number(
        self, own: list[Problem], element: Any, where: str, raw: str | None
    ) -> Decimal | None:
        """A decimal as XML Schema writes it; anything else (``20,000``) is a problem."""
        if raw is None:
            return None
        if DECIMAL.fullmatch(raw):
            return Decimal(raw)
        self.note(own, element, where, f"not a decimal number: {raw!r}")
        return None

    def integer(self, own: list[Problem], element: Any, where: str, raw: str | None) -> int | None:
        """A whole number, or None with a problem."""
        if raw is None:
            return None
        if raw.isascii() and raw.isdigit():
            return int(raw)
        self.note(own, element, where, f"not a whole number: {raw!r}")
        return None

    def boolean(self, own: list[Problem], element: Any, where: str, raw: str | None) -> bool | None:
        """An xsd:boolean (``1``, ``true``, ``0``, ``false``), or None with a problem."""
        if raw is None:
            return None
        value = BOOLEANS.get(raw.lower())
        if value is None:
            self.note(own, element, where, f"not a boolean: {raw!r}")
        return value

    def date_from(
        self, own: list[Problem], element: Any, where: str, raw: str | None
    ) -> date | None:
        """A calendar date, or None with a problem (``2012-March``, ``2012-02-30``)."""
        if raw is None:
            return None
        match = DATE.fullmatch(raw)
        if match is not None:
            try:
                return date.fromisoformat(match.group(1))
            except ValueError:
                pass
        self.note(own, element, where, f"not a date: {raw!r}")
        return None

    def date_of(self, own: list[Problem], element: Any | None, where: str) -> date | None:
        """The date an element carries: ``@iso-date``, else (version 1) its text."""
        if element is None:
            return None
        return self.date_from(
            own, element, where, attribute(element, "iso-date") or own_text(element)
        )
