"""Run the demo as a user does and account for every process it starts.

Each run is tagged with an environment variable of its own, inherited by everything it starts, so
that a test can list what of it is still running by reading `/proc/<pid>/environ`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
PROC = Path("/proc")


def run_marker() -> tuple[str, str]:
    return "SHEPHERD_TEST_RUN", uuid.uuid4().hex


def survivors(marker: tuple[str, str]) -> list[str]:
    """`pid cmdline` of every live process carrying the marker (zombies are already dead)."""
    tag = f"{marker[0]}={marker[1]}".encode()
    found = []
    for entry in PROC.glob("[0-9]*"):
        try:
            if tag not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if state != "Z":
            found.append(f"{entry.name} {cmdline.strip()}")
    return found


def wait_for_no_survivors(marker: tuple[str, str], timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := survivors(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def demo_env(port: int, demo_dir: Path, marker: tuple[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_", "SHEPHERD_"))}
    env["SHEPHERD_LOCAL_PORT"] = str(port)
    env["SHEPHERD_DEMO_DIR"] = str(demo_dir)
    env[marker[0]] = marker[1]
    return env


class Demo:
    """`python -m devtools.demo` in its own session, its output in a file that a stall can show."""

    def __init__(self, env: dict[str, str], output: Path) -> None:
        self.output = output
        self._out: IO[bytes] = output.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "devtools.demo"],
            stdin=subprocess.PIPE,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own group, as a terminal's foreground job is
        )

    def text(self) -> str:
        return self.output.read_bytes().decode(errors="replace")

    def send(self, lines: str, close: bool = False) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(lines.encode())
        self.process.stdin.flush()
        if close:
            self.process.stdin.close()

    def wait_for_output(self, needle: str, timeout: float) -> None:
        """Until `needle` is printed; fails at once if the demo exits, or after `timeout`."""
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.process.poll() is not None:
                raise AssertionError(f"the demo exited ({self.process.returncode}):\n{self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.2)

    def wait(self, stall: float, limit: float) -> int:
        """The exit code; fails with the demo's own output when it prints nothing for `stall`
        seconds (a hang) or runs past `limit`, instead of a bare timeout."""
        started = last_change = time.monotonic()
        size = -1
        while self.process.poll() is None:
            now = time.monotonic()
            if (grown := self.output.stat().st_size) != size:
                size, last_change = grown, now
            if now - last_change > stall or now - started > limit:
                self.kill()
                why = f"silent for {stall:.0f} s" if now - last_change > stall else "too slow"
                raise AssertionError(f"the demo hung ({why}); its output:\n{self.tail()}")
            time.sleep(0.2)
        return self.process.returncode

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the foreground process group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()

    def tail(self, chars: int = 4000) -> str:
        return self.text()[-chars:]

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        self._out.close()


@contextmanager
def demo(env: dict[str, str], output: Path) -> Iterator[Demo]:
    running = Demo(env, output)
    try:
        yield running
    finally:
        running.close()
