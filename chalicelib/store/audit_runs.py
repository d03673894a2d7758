"""Each scheduled audit's finding keys, so the next run reports only what is new and fixed.

A large account has ~100,000 findings: their keys, compressed, are ~1 MB, and an item is at most
400 KB. So the keys are written in parts under a new generation (`stage`), and only then does the
`latest` pointer move to it (`promote`): a run killed half way leaves the last one whole. One
account's invocation stages; the fan-out promotes after posting, passing a generation, not keys.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from chalicelib.store import table as keys
from chalicelib.store.table import Table

log = logging.getLogger(__name__)
RUN_TTL_S = 90 * 24 * 3600
PART_BYTES = 300_000  # of compressed keys per item, under DynamoDB's 400 KB


class AuditRuns:
    def __init__(
        self, table: Table, clock: Callable[[], float] = time.time, account: str = ""
    ) -> None:
        self.table = table
        self.clock = clock
        self.account = account  # "": Shepherd's own account

    def latest(self) -> list[str] | None:
        """The keys of the newest promoted run, or None before the first (or when its parts
        have expired: the next run then reports as a first run)."""
        item = self.table.get(*keys.audit_run(latest=True, account=self.account))
        if item is None:
            return None
        if "parts" not in item:  # written whole, before keys came in parts
            return list(json.loads(gzip.decompress(bytes(item["keys"]))))  # type: ignore[arg-type]
        generation, count = str(item["generation"]), int(str(item["parts"]))
        wanted = [self._part(generation, i) for i in range(count)]
        found = {str(p["sk"]): bytes(p["keys"]) for p in self.table.get_many(wanted)}  # type: ignore[arg-type]
        if len(found) != count:
            log.warning("audit run %s: %d of %d parts left", generation, len(found), count)
            return None
        packed = b"".join(found[sk] for _, sk in wanted)
        return list(json.loads(gzip.decompress(packed)))

    def last_run(self) -> dict[str, Any] | None:
        """The newest run's summary (with `new`, `fixed` and `at`), or None before the first."""
        pk = keys.audit_run(latest=False, account=self.account)[0]
        for item in self.table.query(pk, 3):
            if str(item["sk"]).startswith("run#") and "doc" in item:
                return {**keys.doc_of(item), "at": float(str(item["sk"])[4:])}
        return None

    def stage(self, finding_keys: list[str]) -> str:
        """Write the keys in parts under a new generation, read by nobody until promoted."""
        now = self.clock()
        generation = f"{now:017.6f}"
        packed = gzip.compress(json.dumps(sorted(finding_keys)).encode(), mtime=0)
        parts = [packed[i : i + PART_BYTES] for i in range(0, len(packed), PART_BYTES)]
        expires = int(now) + RUN_TTL_S
        self.table.put_many(
            [
                keys.keyed(self._part(generation, i), keys=part, expires_at=expires)
                for i, part in enumerate(parts)
            ]
        )
        return f"{generation}/{len(parts)}"

    def promote(self, staged: str, summary: dict[str, Any]) -> None:
        """Make a staged generation the latest, and keep a dated record of the run's summary."""
        generation, count = staged.rsplit("/", 1)
        now = self.clock()
        before = self.table.get(*keys.audit_run(latest=True, account=self.account)) or {}
        self.table.put(
            keys.keyed(
                keys.audit_run(latest=True, account=self.account),
                generation=generation,
                parts=int(count),
                at=now,
            )
        )
        self.table.put(
            keys.keyed(
                keys.audit_run(latest=False, when=now, account=self.account),
                doc=json.dumps(summary),
                expires_at=int(now) + RUN_TTL_S,
            )
        )
        if before.get("generation") not in (None, generation):  # a retried promote keeps it
            self._drop(str(before["generation"]), int(str(before.get("parts", 0))))

    def _drop(self, generation: str, count: int) -> None:
        """The superseded generation's parts (they would expire anyway: this saves the space)."""
        try:
            for i in range(count):
                self.table.delete(*self._part(generation, i))
        except Exception:
            log.warning("audit run %s: old parts left to expire", generation, exc_info=True)

    def save(self, finding_keys: list[str], summary: dict[str, Any]) -> None:
        self.promote(self.stage(finding_keys), summary)

    def _part(self, generation: str, index: int) -> tuple[str, str]:
        return keys.audit_run(latest=False, account=self.account)[
            0
        ], f"keys#{generation}#{index:03d}"
