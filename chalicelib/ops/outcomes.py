"""What `/ops` answers, as data: the Slack side (chalicelib/slack/replies.py) words and draws it.

Errors are not outcomes: a UsageError, Refused or UpstreamFailure is raised and carries its own
wording (chalicelib/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from chalicelib.store.actions import Action

if TYPE_CHECKING:
    from chalicelib.audit.findings import Report
    from chalicelib.diagnosis.rules import Diagnosis

FollowUp = Literal["undo", "cancel_move"]


@dataclass(frozen=True)
class Said:
    """A read-only answer or a notice; `cancel_move` offers to stop that action's move task."""

    text: str
    cancel_move: str | None = None
    cancelled: bool = False  # a preview was cancelled: it gives way to this answer


@dataclass(frozen=True)
class History:
    actions: list[Action]
    target: str | None


@dataclass(frozen=True)
class Diagnosed:
    diagnosis: Diagnosis
    reveal: bool = True  # with the lines that quote logs and messages (the viewer rule)


@dataclass(frozen=True)
class Audited:
    """An audit report for the channel, its details for the thread; not `posted`: for the asker
    alone (the channel is not a viewer channel)."""

    report: Report
    title: str
    posted: bool = True


@dataclass(frozen=True)
class Preview:
    action: Action
    details: list[str] = field(default_factory=list)
    steps: list[Preview] = field(default_factory=list)  # a runbook run's, each its own preview
    links: list[tuple[str, str]] = field(default_factory=list)  # a runbook's (label, https URL)


@dataclass(frozen=True)
class Stale:
    """A Confirm refused because the preview no longer holds; a fresh preview when one could be
    made, else why not."""

    action: Action
    why: str
    fresh: Preview | None
    fresh_refused: str | None = None


@dataclass(frozen=True)
class Done:
    action: Action
    text: str  # what it did
    follow_up: FollowUp | None
    partial: bool = False
    unrecorded: bool = False  # done, but the action log could not be written (repaired later)


@dataclass(frozen=True)
class Failed:
    action: Action
    code: str
    message: str


@dataclass(frozen=True)
class MoveCancelled:
    user: str
    queue: str
    moved: int


Outcome = Said | History | Diagnosed | Audited | Preview | Stale | Done | Failed | MoveCancelled
