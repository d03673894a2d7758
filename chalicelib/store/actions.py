"""The action log: who, what, when, before, after, outcome of every change made through the bot.

An action's status moves proposed → executing → done | failed, or proposed → cancelled | stale
(expired, or what it was previewed on changed before Confirm); every
move is a conditional write on the stored status, so a second click or a retried delivery cannot
run an action twice. Refusals go to the history only. Each kind's plan and result are typed
dataclasses (declared by the action kinds in chalicelib/ops/actions/); the log stores them as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chalicelib.aws.dynamodb import Absent, Equals
from chalicelib.aws.errors import ConditionFailed
from chalicelib.store import table as keys
from chalicelib.store.table import Table

Status = Literal["proposed", "executing", "done", "failed", "cancelled", "refused", "stale"]
FINAL: tuple[Status, ...] = ("done", "failed", "refused", "stale")
# In the history from the moment it runs: an action whose final write failed still shows (and is
# repaired when read, chalicelib/ops/repair.py); its final entry overwrites this one.
INDEXED: tuple[Status, ...] = ("executing", "cancelled", *FINAL)  # what `history` lists
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Codec:
    """How one kind's plan and result are typed."""

    plan: type[Any]
    result: type[Any] | None = None


@dataclass
class Action:
    id: str
    kind: str
    user: str
    command: str  # as typed: `/ops concurrency orders reserve 5`
    target: str  # the function or queue: authorisation and history go by it
    summary: str
    plan: Any  # the kind's plan dataclass: what it was, what it will be
    risks: list[str] = field(default_factory=list)
    undoes: str | None = None
    status: Status = "proposed"
    created: float = 0.0
    at: dict[str, float] = field(default_factory=dict)  # status → when it was reached
    confirmed_by: str | None = None
    cancelled_by: str | None = None
    result: Any = None  # the kind's result dataclass, once executed
    outcome: str | None = None
    progress: int | None = None  # messages handled so far by a long redrive
    account: str = ""  # a member account's id; "": Shepherd's own
    region: str = ""  # "": Shepherd's own region
    approval: str | None = None  # why a second operator must approve it (chalicelib/approvals.py)
    approved_by: str | None = None  # that second operator, once approved
    break_glass: str | None = None  # the reason a break-glass operator gave to act alone
    part_of: str | None = None  # the runbook run it is a step of: it runs only as that runs

    @property
    def scope(self) -> str:
        """What history goes by: the target, qualified by its account when it is a member's."""
        return f"{self.account}/{self.target}" if self.account else self.target


class ActionLog:
    def __init__(
        self,
        table: Table,
        kinds: Mapping[str, Codec],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table = table
        self.kinds = kinds
        self.clock = clock

    def create(self, action: Action) -> None:
        action.status, action.created = "proposed", self.clock()
        self._put(action, Absent())

    def get(self, action_id: str) -> Action | None:
        item = self.table.get(*keys.action(action_id))
        return self._decode(str(item["doc"])) if item else None

    def transition(self, action: Action, new: Status, **fields: Any) -> Action | None:
        """Move `action` from its status to `new`; None if the stored one had moved already.

        `action` is the caller's copy; the write is conditional on the stored status, so a stale
        copy can only lose the race, never win it twice.
        """
        old = action.status
        updated = dataclasses.replace(
            action, **fields, status=new, at={**action.at, new: self.clock()}
        )
        try:
            self._put(updated, Equals("status", old))
        except ConditionFailed:
            return None
        if new in INDEXED:
            self._index(updated)
        return updated

    def note(self, action: Action, **fields: Any) -> Action:
        """Add fields (progress, a cancellation) without moving the status."""
        updated = dataclasses.replace(action, **fields)
        self._put(updated, Equals("status", action.status))
        return updated

    def record_refusal(self, action: Action, why: str) -> None:
        refused = dataclasses.replace(action, status="refused", outcome=why, created=self.clock())
        self._index(refused)

    def history(self, target: str | None = None, limit: int = 10) -> list[Action]:
        """Finished and refused actions, newest first; records of a shape no kind reads are skipped."""
        pk, _ = keys.history(target)
        out = []
        for item in self.table.query(pk, limit):
            try:
                out.append(self._decode(str(item["doc"])))
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("skipping an unreadable history record %s: %s", item.get("sk"), exc)
        return out

    def _put(self, action: Action, condition: Absent | Equals) -> None:
        item = keys.keyed(keys.action(action.id), doc=self._encode(action), status=action.status)
        self.table.put(item, condition)

    def _index(self, action: Action) -> None:
        doc = self._encode(action)
        for target in (None, action.scope):
            self.table.put(keys.keyed(keys.history(target, action.created, action.id), doc=doc))

    def _encode(self, action: Action) -> str:
        return json.dumps(dataclasses.asdict(action))

    def _decode(self, doc: str) -> Action:
        raw = json.loads(doc)
        codec = self.kinds[raw["kind"]]
        if raw.get("plan") is not None:  # a refusal made before planning has none
            raw["plan"] = codec.plan(**raw["plan"])
        if raw.get("result") is not None and codec.result is not None:
            raw["result"] = codec.result(**raw["result"])
        return Action(**raw)
