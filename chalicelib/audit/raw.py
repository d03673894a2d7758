"""A finding of one statement, before it is placed at the principals that hold its policy."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.audit.catalogue import ActionSet


@dataclass(frozen=True, slots=True)
class Raw:
    """A finding of one statement, before it is placed at a principal."""

    kind: str
    severity: str
    statement: str
    detail: str
    actions: ActionSet
    shown: tuple[str, ...]  # the riskiest few, ordered once per document, not per principal


def listed(values: tuple[str, ...], limit: int = 3) -> str:
    """The first few, and how many more."""
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
