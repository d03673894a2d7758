"""Causes ranked from evidence: the types, the rule registry, and what rules share. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.diagnosis import logs as L
from chalicelib.diagnosis.evidence import Evidence
from chalicelib.events.signals import Alarm


@dataclass(frozen=True)
class Action:
    label: str
    command: str


@dataclass(frozen=True)
class Cause:
    kind: str
    confidence: float
    summary: str
    evidence: tuple[str, ...] = ()
    action: Action | None = None
    # Lines that quote data (log lines, message bodies): shown to viewers only (SHEPHERD_VIEWERS).
    quoted: tuple[str, ...] = ()


@dataclass
class Diagnosis:
    evidence: Evidence
    causes: list[Cause] = field(default_factory=list)
    runbooks: list[Action] = field(default_factory=list)  # the runbooks it matches, to run

    @property
    def top(self) -> Cause:
        return self.causes[0]


Rule = Callable[[Evidence], Cause | None]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


# --- what rules share -------------------------------------------------------------------


def log_messages(ev: Evidence) -> list[str]:
    return [line.message for line in ev.logs]


def matching(ev: Evidence, pattern: object) -> list[str]:
    return [m for m in log_messages(ev) if pattern.search(m)]  # type: ignore[attr-defined]


def report_lines(ev: Evidence) -> list[L.Report]:
    return [r for r in (L.parse_report(m) for m in log_messages(ev)) if r is not None]


def alarm_metric(ev: Evidence) -> set[str]:
    return ev.signal.metric_names if isinstance(ev.signal, Alarm) else set()


def kind_words(kind: str) -> str:
    """A cause's kind as words (`dlq_backlog` → "DLQ backlog")."""
    return " ".join("DLQ" if w == "dlq" else w for w in kind.split("_"))


def kind_title(kind: str) -> str:
    """The kind's words with a capital first letter ("DLQ backlog", "Recent deploy")."""
    words = kind_words(kind)
    return words[:1].upper() + words[1:]


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def quote(line: str, limit: int = 160) -> str:
    first = L.redact(line.strip().splitlines()[0] if line.strip() else line)
    return first if len(first) <= limit else first[: limit - 1] + "…"


def rate_line(ev: Evidence) -> str | None:
    rate = ev.error_rate()
    if rate is None:
        return None
    return (
        f"Error rate {pct(rate)} in the alarm window "
        f"({ev.total('Errors'):.0f} errors / {ev.total('Invocations'):.0f} invocations)"
    )
