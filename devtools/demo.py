"""`make run`: Shepherd on a local AWS emulator with a demo fleet and a Slack stand-in.

1. a moto server on 127.0.0.1 (the AWS account), 2. `shepherd local-setup`, 3. a demo fleet with
real failures seeded in it, 4. the Slack stand-in printing what the bot posts, 5. the demo alarms
replayed through the real handlers, 6. `chalice local` serving /slack/events until Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE_PORT = int(os.environ.get("SHEPHERD_LOCAL_PORT", "8000"))


def _print_message(method: str, message: Any) -> None:
    from devtools.fake_slack import as_text

    where = f"{message.channel}" + (f" (thread {message.thread_ts})" if message.thread_ts else "")
    verb = {"chat.update": "updated", "chat.postEphemeral": "only you see"}.get(method, "posted")
    bar = "═" * 72
    print(
        f"\n{bar}\n Slack · {where} · {verb}\n{bar}\n{as_text(message.blocks, message.text)}\n",
        flush=True,
    )


def main() -> int:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log is noise here

    from devtools.fake_slack import FakeSlack, FakeSlackServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    slack = FakeSlackServer(FakeSlack(on_message=_print_message)).__enter__()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": "xoxb-local-demo",
        "SLACK_SIGNING_SECRET": "local-signing-secret",
        "SHEPHERD_CHANNEL": "#ops-alarms",
        "SHEPHERD_TABLE": "shepherd-state",
        "SHEPHERD_OPERATORS": "ULOCALOPS",
        "SHEPHERD_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    print(
        f"AWS emulator (moto) on {env['AWS_ENDPOINT_URL']}; Slack stand-in on {slack.url}",
        flush=True,
    )

    from chalicelib.cli import main as shepherd

    shepherd(["local-setup"])
    from devtools import fleet

    scenarios = fleet.seed(list(fleet.DEMO))
    print(
        "Demo fleet seeded: "
        + ", ".join(f"{s.function} ({s.kind.replace('_', ' ')})" for s in scenarios)
    )
    print("Replaying their alarms through Shepherd's handlers…", flush=True)

    from chalice.test import Client

    from app import app

    started = time.perf_counter()
    with Client(app) as client:
        for scenario in scenarios:
            client.lambda_.invoke(scenario.handler, scenario.event)
    print(
        f"{len(scenarios)} alarms diagnosed in {time.perf_counter() - started:.1f} s.\n", flush=True
    )

    if os.environ.get("SHEPHERD_DEMO_ONCE"):
        moto.stop()
        return 0
    print(
        f"chalice local on http://127.0.0.1:{CHALICE_PORT} (POST /slack/events). Ctrl-C to stop.",
        flush=True,
    )
    local = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chalice"),
            "local",
            "--stage",
            "dev",
            "--port",
            str(CHALICE_PORT),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    try:
        return local.wait()
    except KeyboardInterrupt:
        local.send_signal(signal.SIGINT)
        local.wait(timeout=10)
        return 0
    finally:
        moto.stop()


if __name__ == "__main__":
    sys.exit(main())
