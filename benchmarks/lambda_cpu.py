"""Run a command on the CPU share Lambda gives a function of a given memory size.

Lambda allots CPU in proportion to memory: one full vCPU at 1,769 MB, so a 512 MB function gets
about 29% of one core. Here a child process is held to that share with a cgroup CPU quota
(cgroup v1 `cpu.cfs_quota_us`, or cgroup v2 `cpu.max`). Where neither can be written (not Linux,
not root, no cpu controller), `CpuShare.available` is False and `note` says why: the caller then
reports full-core figures only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL_CORE_MB = 1769
PERIOD_US = 100_000
V1 = Path("/sys/fs/cgroup/cpu")
V2 = Path("/sys/fs/cgroup")


def share_of(memory_mb: int) -> float:
    """The fraction of one core Lambda gives `memory_mb`."""
    return memory_mb / FULL_CORE_MB


def memory_of(function: str, stage: str = "prod") -> int:
    """A function's configured memory in .chalice/config.json (function, then stage, then app)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage_config = config.get("stages", {}).get(stage, {})
    for scope in (
        stage_config.get("lambda_functions", {}).get(function, {}),
        config.get("lambda_functions", {}).get(function, {}),
        stage_config,
        config,
    ):
        if "lambda_memory_size" in scope:
            return int(scope["lambda_memory_size"])
    return 128  # Lambda's default


class CpuShare:
    """A cgroup holding its processes to `share` of one core; a context manager."""

    def __init__(self, share: float) -> None:
        self.share = share
        self.path: Path | None = None
        self.note = ""
        self._procs = ""

    def __enter__(self) -> CpuShare:
        quota = max(1000, int(self.share * PERIOD_US))
        name = f"shepherd-bench-{os.getpid()}"
        try:
            if (V1 / "cpu.cfs_quota_us").exists():
                path = V1 / name
                path.mkdir(exist_ok=True)
                (path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (path / "cpu.cfs_quota_us").write_text(str(quota))
                self._procs = "cgroup.procs"
            elif "cpu" in (V2 / "cgroup.controllers").read_text().split():
                path = V2 / name
                path.mkdir(exist_ok=True)
                (path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
                self._procs = "cgroup.procs"
            else:
                self.note = "no cgroup cpu controller here"
                return self
        except OSError as exc:
            self.note = f"cannot set a cgroup CPU quota here ({exc.strerror or exc})"
            return self
        self.path = path
        return self

    @property
    def available(self) -> bool:
        return self.path is not None

    def preexec(self) -> Callable[[], None] | None:
        """For subprocess: put the child in the cgroup before it runs anything."""
        if self.path is None:
            return None
        procs = self.path / self._procs

        def enter() -> None:
            procs.write_text(str(os.getpid()))

        return enter

    def __exit__(self, *_: object) -> None:
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:
                pass  # a straggling child: the kernel frees the group when it exits
