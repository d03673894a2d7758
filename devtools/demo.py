"""`make run`: Shepherd on a local AWS emulator with a demo fleet and a Slack stand-in.

1. a moto server on 127.0.0.1 (the AWS account), 2. `shepherd local-setup`, 3. a demo fleet with
real failures seeded in it, 4. the Slack stand-in printing what the bot posts, 5. the demo alarms
replayed through the real handlers, 6. `chalice local` (no reloader, devtools/local_server.py) serving /slack/events, 7. a prompt where
`/ops …` typed in is signed and sent to it as Slack would, with the buttons numbered to click.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

from devtools.aws_gaps import AwsGapsServer
from devtools.console import HELP, Console
from devtools.fleet.accounts import STAGING, accounts_file, as_account, member_session
from devtools.local_server import LocalServer, port_is_free
from devtools.moto_config import lambda_without_docker

RUNBOOKS = Path(__file__).resolve().parent / "fleet" / "runbooks.json"

ROOT = Path(__file__).resolve().parent.parent
CHALICE_PORT = int(os.environ.get("SHEPHERD_LOCAL_PORT", "8000"))
SIGNING_SECRET = "local-signing-secret"
# What the run writes (the graphs Slack would show, the accounts file): build/demo by default.
DEMO_DIR = Path(os.environ.get("SHEPHERD_DEMO_DIR") or ROOT / "build" / "demo")
CONSOLE: Console | None = None


def _print_message(method: str, message: Any) -> None:
    from devtools.fake_slack import as_text

    where = f"{message.channel}" + (f" (thread {message.thread_ts})" if message.thread_ts else "")
    verb = {"chat.update": "updated", "chat.postEphemeral": "only you see"}.get(method, "posted")
    if getattr(message, "ephemeral", False):
        verb = "only you see"
    if method == "chat.update" and message.text.startswith("ALARM STORM"):
        # A storm's summary is redrawn as alarms come in: a line each time, in full at the end.
        print(f" Slack · {where} · updated: {message.text}", flush=True)
        return
    blocks = CONSOLE.numbered(message.blocks) if CONSOLE is not None else message.blocks
    bar = "═" * 72
    print(
        f"\n{bar}\n Slack · {where} · {verb}\n{bar}\n{as_text(blocks, message.text)}\n",
        flush=True,
    )


def _print_file(upload: Any) -> None:
    where = f"{upload.channel} (thread {upload.thread_ts})"
    print(f" Slack · {where} · file: {upload.title} → {upload.saved_to}", flush=True)


def _print_home(user: str, view: dict[str, Any]) -> None:
    from devtools.fake_slack import as_text

    blocks = CONSOLE.numbered(view["blocks"], home=True) if CONSOLE is not None else view["blocks"]
    bar = "═" * 72
    print(f"\n{bar}\n Slack · Home tab of {user}\n{bar}\n{as_text(blocks)}\n", flush=True)


def main() -> int:
    if not port_is_free(CHALICE_PORT):
        print(
            f"Port {CHALICE_PORT} is in use (another `make run`?). Stop it, or choose another "
            "port: SHEPHERD_LOCAL_PORT=8001 make run",
            file=sys.stderr,
        )
        return 1
    # A terminal closed or `kill` stops the demo as Ctrl-C does: through every cleanup below.
    # SIGINT too: started from a background job, a process inherits SIGINT ignored, and Python
    # then installs no KeyboardInterrupt for it.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.default_int_handler)
    with contextlib.ExitStack() as running:
        try:
            return _run(running)
        except KeyboardInterrupt:
            print("\nStopping Shepherd's local run…", file=sys.stderr, flush=True)
            return 0


def _run(running: contextlib.ExitStack) -> int:
    """Everything the demo starts is entered on `running`, so that any exit stops all of it."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the emulator's access log is noise here

    from devtools import moto_metrics
    from devtools.fake_slack import FakeSlack, FakeSlackServer

    moto_metrics.install()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    running.callback(moto.stop)
    host, port = moto.get_host_and_port()
    # Replays invoke demo functions: answer them without Docker, as Lambda accepts an async invoke.
    lambda_without_docker(f"http://{host}:{port}")
    # In front of moto: the few calls it lacks (account settings, provisioned concurrency,
    # message-move tasks), so that every /ops command works on the demo fleet.
    aws_front = running.enter_context(AwsGapsServer(f"http://{host}:{port}"))
    fake = FakeSlack(
        on_message=_print_message,
        on_file=_print_file,
        on_home=_print_home,
        files_dir=str(DEMO_DIR / "files"),
    )
    slack = running.enter_context(FakeSlackServer(fake))
    global CONSOLE
    endpoint = f"http://127.0.0.1:{CHALICE_PORT}/slack/events"
    # Numbers the buttons of every message from the first alarm on, so any can be clicked.
    CONSOLE = Console(endpoint, SIGNING_SECRET, slack.response_url(""))
    env = {
        "AWS_ENDPOINT_URL": aws_front.url,
        "AWS_ACCESS_KEY_ID": "demo",
        "AWS_SECRET_ACCESS_KEY": "demo",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": "xoxb-local-demo",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SHEPHERD_CHANNEL": "#ops-alarms",
        "SHEPHERD_TABLE": "shepherd-state",
        "SHEPHERD_OPERATORS": "ULOCALOPS,ULOCALPEER",
        # The kill switch (`reserve 0`) needs a second operator: `as ULOCALPEER` to approve it.
        "SHEPHERD_APPROVALS": "reserve-0",
        "SHEPHERD_BREAK_GLASS": "ULOCALOPS",
        "SHEPHERD_LOG_LEVEL": "WARNING",
        # The demo's handlers run one after another with chalice's 3 s test context: redraw a
        # storm's summary within it, and soon (a deployed function has 60 s, and redraws every 3 s).
        "SHEPHERD_STORM_REDRAW": "0.2",
        # A second account, `staging`, assumed as a member account is (devtools/fleet/accounts.py).
        "SHEPHERD_ACCOUNTS_FILE": str(accounts_file(DEMO_DIR / "accounts.json")),
        # One runbook, offered on checkout-api's alarm (a bad deploy): roll back, then snooze.
        "SHEPHERD_RUNBOOKS_FILE": str(RUNBOOKS),
    }
    os.environ.update(env)
    print(
        f"AWS emulator (moto) on http://{host}:{port}, reached through {aws_front.url}; "
        f"Slack stand-in on {slack.url}",
        flush=True,
    )

    from chalicelib.cli import main as shepherd

    shepherd(["local-setup"])
    from devtools import fleet

    scenarios = fleet.seed(list(fleet.DEMO))
    [in_staging] = fleet.seed(["out_of_memory"], member_session())
    failed = fleet.failed_deliveries()
    fleet.releases()
    fleet.iam_drift()
    print(
        "Demo fleet seeded: "
        + ", ".join(f"{s.function} ({s.kind.replace('_', ' ')})" for s in scenarios)
        + f"; invoice-mailer has versions 1-3 behind alias live and {len(failed)} failed events "
        f"in invoice-mailer-failed; in account staging ({STAGING}): {in_staging.function} "
        "(out of memory)"
    )
    print("Replaying their alarms through Shepherd's handlers…", flush=True)

    from chalice.test import Client

    from app import app

    started = time.perf_counter()
    with Client(app) as client:
        for scenario in scenarios:
            client.lambda_.invoke(scenario.handler, scenario.event)
        client.lambda_.invoke(in_staging.handler, as_account(in_staging.event))
        print(
            f"{len(scenarios) + 1} alarms diagnosed in {time.perf_counter() - started:.1f} s.\n"
            "Then a storm: 12 alarms on 6 functions within a minute, all failing on one "
            "throttled DynamoDB table…",
            flush=True,
        )
        for event in fleet.storm(functions=6, alarms=12):
            client.lambda_.invoke("on_alarm", event)
    summary = next(m for m in slack.fake.channel_messages() if m.text.startswith("ALARM STORM"))
    print("\nThe storm, as its summary stands now:", flush=True)
    _print_message("chat.postMessage", summary)

    if os.environ.get("SHEPHERD_DEMO_ONCE"):
        return 0
    local = running.enter_context(LocalServer(CHALICE_PORT, {**os.environ, **env}))
    if not local.wait_until_serving():
        print("chalice local did not start; see its output above", file=sys.stderr)
        return 1
    print(
        f"\nchalice local serves {endpoint}; you are operator ULOCALOPS in #ops-alarms.\n"
        f"{HELP}\nTry: /ops status invoice-mailer · /ops alias invoice-mailer live rollback · "
        "click Confirm · click Acknowledge · click Snooze 1 h · /ops timeout orders-processor 30 · "
        "/ops redrive invoice-mailer-failed · /ops audit · /ops history · home · "
        f"/ops status {in_staging.function} --account staging\n"
        "Two people: /ops concurrency orders-processor reserve 0 (the kill switch needs a second "
        "operator) · as ULOCALPEER · click Approve · as ULOCALOPS\n"
        "Runbooks: /ops runbooks · click Run runbook: bad-deploy (on checkout-api's alarm) · "
        "click Confirm · click Undo runbook\n",
        flush=True,
    )
    _prompt(CONSOLE)
    return 0


def _prompt(console: Console) -> None:
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            print("ops> ", end="", flush=True)
        # Ctrl-C may be delivered to any thread of the process (the servers' too): a main thread
        # blocked in read() would not see it until the next line. It waits in short selects,
        # between which Python runs the handler.
        while not select.select([sys.stdin], [], [], 0.25)[0]:
            pass
        line = sys.stdin.readline()
        if not line:
            return
        if not interactive:
            print(f"ops> {line.strip()}", flush=True)
        problem = console.line(line)
        if problem:
            print(problem, flush=True)


if __name__ == "__main__":
    sys.exit(main())
