"""Each scheduled audit's finding keys, so the next run reports only what is new and fixed."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from typing import Any

from chalicelib.store import table as keys
from chalicelib.store.table import Table

RUN_TTL_S = 90 * 24 * 3600


class AuditRuns:
    def __init__(
        self, table: Table, clock: Callable[[], float] = time.time, account: str = ""
    ) -> None:
        self.table = table
        self.clock = clock
        self.account = account  # "": Shepherd's own account

    def latest(self) -> list[str] | None:
        item = self.table.get(*keys.audit_run(latest=True, account=self.account))
        if item is None:
            return None
        return list(json.loads(gzip.decompress(bytes(item["keys"]))))  # type: ignore[arg-type]

    def last_run(self) -> dict[str, Any] | None:
        """The newest run's summary (with `new`, `fixed` and `at`), or None before the first."""
        pk = keys.audit_run(latest=False, account=self.account)[0]
        for item in self.table.query(pk, 3):
            if str(item["sk"]).startswith("run#") and "doc" in item:
                return {**keys.doc_of(item), "at": float(str(item["sk"])[4:])}
        return None

    def save(self, finding_keys: list[str], summary: dict[str, Any]) -> None:
        """The latest keys (compressed: thousands of findings fit an item), and a dated record."""
        now = self.clock()
        packed = gzip.compress(json.dumps(sorted(finding_keys)).encode(), mtime=0)
        self.table.put(
            keys.keyed(keys.audit_run(latest=True, account=self.account), keys=packed, at=now)
        )
        self.table.put(
            keys.keyed(
                keys.audit_run(latest=False, when=now, account=self.account),
                doc=json.dumps(summary),
                keys=packed,
                expires_at=int(now) + RUN_TTL_S,
            )
        )
