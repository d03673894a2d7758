"""`chalice local` as the demo runs it: no reloader, one process group, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from devtools.local_server import LocalServer, wait_until_free
from tests.e2e.processes import ROOT, run_marker, survivors, wait_for_no_survivors
from tests.e2e.test_local_run import free_port

pytestmark = pytest.mark.e2e


def server_env(marker: tuple[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLACK_", "SHEPHERD_"))}
    env |= {"AWS_DEFAULT_REGION": "us-east-1", marker[0]: marker[1]}
    return env


def test_an_exception_in_the_owner_stops_the_whole_server_group() -> None:
    marker, port = run_marker(), free_port()

    def fail_half_way() -> None:
        with LocalServer(port, server_env(marker)) as server:
            assert server.wait_until_serving()
            assert len(survivors(marker)) == 1  # no reloader child beside it
            assert os.getpgid(server.pid) == server.pid  # a group of its own
            raise RuntimeError("the demo failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        fail_half_way()
    assert wait_for_no_survivors(marker) == []
    assert wait_until_free(port)


def test_the_server_does_not_restart_when_project_files_change(tmp_path: Path) -> None:
    """The reloader restarted the server on any write under the project (build/, .venv/)."""
    marker, port = run_marker(), free_port()
    with LocalServer(port, server_env(marker)) as server:
        assert server.wait_until_serving()
        before = survivors(marker)
        written = ROOT / "build" / "reload-probe.txt"
        written.parent.mkdir(exist_ok=True)
        written.write_text("a change")
        try:
            assert server.wait_until_serving(timeout=3)
            assert survivors(marker) == before  # the same single process, never replaced
        finally:
            written.unlink()


def test_a_server_whose_owner_is_killed_exits_by_itself() -> None:
    """SIGKILL leaves no cleanup to run: the server sees its lifeline close and goes."""
    marker, port = run_marker(), free_port()
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from devtools.local_server import LocalServer\n"
            f"server = LocalServer({port}, dict(__import__('os').environ)).__enter__()\n"
            "print(server.wait_until_serving(), flush=True)\n"
            "time.sleep(600)\n",
        ],
        cwd=ROOT,
        env=server_env(marker),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        said = _first_of(owner.stdout, ("True", "False"), timeout=90)
        assert said == "True", said
        assert len(survivors(marker)) == 2  # the owner and its server
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        assert wait_for_no_survivors(marker, timeout=10) == []
        assert wait_until_free(port)
    finally:
        if owner.poll() is None:
            owner.kill()
        owner.wait()
        assert owner.stdout is not None
        owner.stdout.close()


def _first_of(stream: Any, wanted: tuple[str, ...], timeout: float) -> str:
    """The first line of `stream` that is one of `wanted`, read beside the test so that a silent
    owner fails the test after `timeout` instead of holding its worker for good."""
    import queue
    import threading

    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in iter(stream.readline, ""):
            lines.put(line.strip())
        lines.put(None)  # end of output

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            return f"ended without one of {wanted}: {seen[-10:]}"
        if line in wanted:
            return line
        seen.append(line)
    return f"none of {wanted} within {timeout:.0f} s: {seen[-10:]}"
