"""The state table: delivery dedupe, alarm → Slack message threads, (later) the action log.

One DynamoDB table, keys `pk`/`sk` (strings), TTL on `expires_at`. The data layer takes a client
and knows nothing of Slack or alarms beyond what it stores.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass
from typing import Any

DEDUPE_TTL_S = 7 * 24 * 3600
LEASE_S = 300  # a claim left by a crashed attempt is taken over after this long
THREAD_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class AlarmThread:
    channel: str
    ts: str
    alarm_time: float
    blocks: list[dict[str, Any]]


class StateTable:
    def __init__(self, client: Any, table: str, clock: Any = time.time) -> None:
        self.client = client
        self.table = table
        self.clock = clock

    # --- dedupe: a conditional write guards each delivery -------------------------------

    def claim(self, key: str) -> bool:
        """True if this caller may process `key`; False if it is done or being done elsewhere."""
        now = int(self.clock())
        try:
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": f"dedupe#{key}"},
                    "sk": {"S": "-"},
                    "status": {"S": "pending"},
                    "lease_until": {"N": str(now + LEASE_S)},
                    "expires_at": {"N": str(now + DEDUPE_TTL_S)},
                },
                ConditionExpression="attribute_not_exists(pk) OR (#s = :pending AND lease_until < :now)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": {"S": "pending"}, ":now": {"N": str(now)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def complete(self, key: str) -> None:
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": f"dedupe#{key}"}, "sk": {"S": "-"}},
            UpdateExpression="SET #s = :done",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": {"S": "done"}},
        )

    def release(self, key: str) -> None:
        """Give a claim back so that the retried delivery is processed."""
        self.client.delete_item(
            TableName=self.table, Key={"pk": {"S": f"dedupe#{key}"}, "sk": {"S": "-"}}
        )

    # --- alarm threads ------------------------------------------------------------------

    def save_thread(self, alarm_arn: str, thread: AlarmThread) -> None:
        now = int(self.clock())
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": f"alarm#{alarm_arn}"},
                "sk": {"S": "thread"},
                "channel": {"S": thread.channel},
                "ts": {"S": thread.ts},
                "alarm_time": {"N": repr(thread.alarm_time)},
                "blocks": {"S": json.dumps(thread.blocks)},
                "expires_at": {"N": str(now + THREAD_TTL_S)},
            },
        )

    def thread(self, alarm_arn: str) -> AlarmThread | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"alarm#{alarm_arn}"}, "sk": {"S": "thread"}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        return AlarmThread(
            channel=item["channel"]["S"],
            ts=item["ts"]["S"],
            alarm_time=float(item["alarm_time"]["N"]),
            blocks=json.loads(item["blocks"]["S"]),
        )

    def close_thread(self, alarm_arn: str) -> None:
        self.client.delete_item(
            TableName=self.table, Key={"pk": {"S": f"alarm#{alarm_arn}"}, "sk": {"S": "thread"}}
        )


def create_table(client: Any, table: str) -> bool:
    """Create the state table if missing; True if it was created. Safe to run twice."""
    try:
        client.create_table(
            TableName=table,
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except client.exceptions.ResourceInUseException:
        return False
    client.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    return True


class ActionLog:
    """Actions taken through the bot: who, what, when, before, after, outcome.

    Status moves proposed → executing → done | failed, or proposed → cancelled; every move is a
    conditional write, so a second click or a retried delivery cannot run an action twice.
    """

    def __init__(self, client: Any, table: str, clock: Any = time.time) -> None:
        self.client = client
        self.table = table
        self.clock = clock

    def create(self, action: dict[str, Any]) -> None:
        item = {**action, "status": "proposed", "created": self.clock()}
        self._put(item, ConditionExpression="attribute_not_exists(pk)")

    def get(self, action_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"action#{action_id}"}, "sk": {"S": "-"}},
            ConsistentRead=True,
        ).get("Item")
        return json.loads(item["doc"]["S"]) if item else None

    def transition(
        self,
        action_id: str,
        old: str,
        new: str,
        current: dict[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any] | None:
        """Move an action from `old` to `new` status; None if it was not in `old` (already taken).

        `current` is the action as the caller just read it; the write is conditional on the
        stored status either way, so a stale copy can only lose the race, never win it twice.
        """
        current = current or self.get(action_id)
        if current is None or current["status"] != old:
            return None
        updated = {**current, **fields, "status": new, f"{new}_at": self.clock()}
        try:
            self._put(updated, when_status=old)
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        if new in ("done", "failed", "refused"):
            self._index(updated)
        return updated

    def note(self, action_id: str, **fields: Any) -> None:
        """Add fields (progress, a cancellation) to an action without moving its status."""
        current = self.get(action_id)
        if current is not None:
            self._put({**current, **fields}, when_status=current["status"])

    def _put(
        self, action: dict[str, Any], when_status: str | None = None, **condition: Any
    ) -> None:
        """Write an action item; with `when_status`, only while its status is still that."""
        if when_status is not None:
            condition = {
                "ConditionExpression": "#s = :s",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":s": {"S": when_status}},
            }
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": f"action#{action['id']}"},
                "sk": {"S": "-"},
                "doc": {"S": json.dumps(action)},
                "status": {"S": action["status"]},
            },
            **condition,
        )

    def record_refusal(self, action: dict[str, Any]) -> None:
        self._index({**action, "status": "refused", "created": self.clock()})

    def _index(self, action: dict[str, Any]) -> None:
        when = f"{self.clock():017.6f}"
        for pk in ("history", f"history#{action.get('function', '')}"):
            self.client.put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": pk},
                    "sk": {"S": f"{when}#{action['id']}"},
                    "doc": {"S": json.dumps(action)},
                },
            )

    def history(self, function: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
        response = self.client.query(
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={
                ":pk": {"S": f"history#{function}" if function else "history"}
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        return [json.loads(i["doc"]["S"]) for i in response.get("Items", [])]


class AuditRuns:
    """Each scheduled audit's finding keys, so the next run reports only what is new and fixed."""

    def __init__(self, client: Any, table: str, clock: Any = time.time) -> None:
        self.client = client
        self.table = table
        self.clock = clock

    def latest(self) -> list[str] | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": "audit"}, "sk": {"S": "latest"}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return None
        return list(json.loads(gzip.decompress(item["keys"]["B"])))

    def save(self, keys: list[str], summary: dict[str, Any]) -> None:
        """The latest keys (compressed: thousands of findings fit an item), and a dated record."""
        now = self.clock()
        packed = gzip.compress(json.dumps(sorted(keys)).encode(), mtime=0)
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": "audit"},
                "sk": {"S": "latest"},
                "keys": {"B": packed},
                "at": {"N": str(now)},
            },
        )
        self.client.put_item(
            TableName=self.table,
            Item={
                "pk": {"S": "audit"},
                "sk": {"S": f"run#{now:017.6f}"},
                "doc": {"S": json.dumps(summary)},
                "keys": {"B": packed},
                "expires_at": {"N": str(int(now) + 90 * 24 * 3600)},
            },
        )
