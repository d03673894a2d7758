"""`chalice local` as `make run` and the tests run it: one process, no reloader, gone with its owner.

Chalice's reloader runs the server as a child and restarts it whenever a file under the project
changes (`.venv/` and `build/` included), so a session could lose its server mid-request and a stop
aimed at the parent could leave the child holding the port. Here the server runs without it, in a
process group of its own that `LocalServer` stops whole on every exit path; and should the owner
die without stopping it (SIGKILL), the server notices its lifeline close and exits too.

    python -m devtools.local_server LIFELINE_FD --stage dev --port 8000
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen on the port now (a leftover server or another app holds it).

    As chalice's server binds (SO_REUSEADDR): closed connections waiting out TIME_WAIT on the
    port do not keep it from listening, a listening socket does."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def wait_until_free(port: int, timeout: float = 5.0) -> bool:
    """True once the port is free: a process that has exited may hold it a moment longer."""
    deadline = time.monotonic() + timeout
    while not port_is_free(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class LocalServer:
    """`chalice local --no-autoreload` in a process group of its own, stopped whole on exit."""

    def __init__(self, port: int, env: dict[str, str], stage: str = "dev") -> None:
        self.port = port
        self._env = env
        self._stage = stage
        self._process: subprocess.Popen[bytes] | None = None
        self._lifeline = -1

    @property
    def _args(self) -> list[str]:
        return ["--stage", self._stage, "--port", str(self.port)]

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def __enter__(self) -> LocalServer:
        read, self._lifeline = os.pipe()  # neither end is inherited by anything else
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "devtools.local_server", str(read), *self._args],
                cwd=ROOT,
                env=self._env,
                pass_fds=(read,),
                start_new_session=True,  # its own group: stopped as one, not by the terminal
            )
        except BaseException:
            os.close(self._lifeline)
            raise
        finally:
            os.close(read)
        return self

    def wait_until_serving(self, timeout: float = 30.0) -> bool:
        """True once the port answers; False if the server exited or the time ran out."""
        assert self._process is not None, "not started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._process.poll() is None:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return True
            time.sleep(0.1)
        return False

    def stop(self, grace: float = 5.0) -> None:
        """SIGINT to the whole group, SIGKILL to what is left after `grace` seconds."""
        if self._process is None:
            return
        process, self._process = self._process, None
        for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break  # the group is empty: nothing of the server is left
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(process.pid):
                process.poll()  # reap the leader so that it does not count as alive
                time.sleep(0.05)
            if not _group_alive(process.pid):
                break
        process.wait()
        os.close(self._lifeline)
        wait_until_free(self.port)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie leader still counts for killpg: the group is alive only if more than a corpse is left.
    return not _only_zombies(pgid)


def _only_zombies(pgid: int) -> bool:
    proc = Path("/proc")
    if not proc.is_dir():
        return False
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            return False
    return True


def _exit_when_orphaned(lifeline: int) -> None:
    """The owner holds the pipe's other end: EOF means it is gone, however it went."""
    while os.read(lifeline, 1):
        pass
    os._exit(0)


def main(argv: list[str]) -> int:
    lifeline, *chalice_args = argv
    threading.Thread(target=_exit_when_orphaned, args=(int(lifeline),), daemon=True).start()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    import click
    from chalice.cli import cli

    try:
        cli.main(
            args=["local", "--no-autoreload", *chalice_args],
            obj={},
            prog_name="chalice",
            standalone_mode=False,  # a stop is not "Aborted!" with exit 1
        )
    except (KeyboardInterrupt, click.Abort):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
