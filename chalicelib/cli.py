"""`shepherd`: diagnose an event file, audit IAM, set up local resources (PRODUCT.md §7); deploy,
store the Slack secrets and check a deployment (deploy/, operator tooling)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chalicelib.errors import BadInput, ShepherdError

EXIT_OK = 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="shepherd", description="Shepherd: ops for AWS Lambda fleets."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "diagnose", help="diagnose one event file (alarm, EventBridge, destination record)"
    )
    p.add_argument("event_file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    a = sub.add_parser("audit", help="IAM wildcard audit of the account or of a file")
    a.add_argument(
        "--input", metavar="FILE", help="output of `aws iam get-account-authorization-details`"
    )
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.add_argument("filter", nargs="?", help="a finding kind, or a principal/policy name glob")
    sub.add_parser(
        "local-setup", help="create the bot's own resources in the configured AWS endpoint"
    )
    d = sub.add_parser("deploy", help="deploy the packaged Shepherd (make package) as a stack")
    d.add_argument("--stage", default="prod")
    d.add_argument("--package", default="build/package", help="what `make package` wrote")
    d.add_argument("--operators", help="Slack user/group ids who may make changes (U…,S…)")
    d.add_argument("--channel", help="the alarm channel (#name or C… id)")
    d.add_argument(
        "--member-accounts",
        help="comma-separated account ids whose alarms the event bus takes "
        "(default: policies/accounts.json's)",
    )
    d.add_argument(
        "--bucket", help="the deployment bucket (default shepherd-deploy-<acct>-<region>)"
    )
    s = sub.add_parser("secrets", help="store the Slack bot token and signing secret in SSM")
    s.add_argument("action", choices=["set"])
    s.add_argument("--stage", default="prod")
    doc = sub.add_parser("doctor", help="check a deployed Shepherd, one line per check")
    doc.add_argument("--stage", default="prod")
    doc.add_argument(
        "--test-alarm",
        action="store_true",
        help="send a synthetic alarm through the deployed topic and wait for its message",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "diagnose":
            return _diagnose(Path(args.event_file), as_json=args.json)
        if args.command == "audit":
            return _audit(args.input, args.filter, as_json=args.json)
        if args.command in ("deploy", "secrets", "doctor"):
            return _operate(args)
        return _local_setup()
    except BadInput as exc:
        print(f"shepherd: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # `shepherd audit | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        print(f"shepherd: failed: {exc}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, ShepherdError) else ShepherdError.exit_code


def _diagnose(path: Path, *, as_json: bool) -> int:
    from chalicelib.aws.session import Aws
    from chalicelib.config import Settings
    from chalicelib.diagnosis.gather import gather
    from chalicelib.diagnosis.rules import diagnose
    from chalicelib.events.ingest import parse_event
    from chalicelib.slack.render import to_json

    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not JSON: {exc}") from exc
    batch = parse_event(event)
    if not batch.signals:
        reasons = "; ".join(f"{s.where}: {s.reason}" for s in batch.skipped) or "empty"
        raise BadInput(f"{path} holds no alarm or destination record ({reasons})")
    aws = Aws(region=Settings.from_env().region)
    results = []
    for signal in batch.signals:
        evidence = gather(signal, aws)
        if not evidence.checked:  # not a diagnosis: AWS answered nothing (unreachable, denied)
            from chalicelib.errors import UpstreamFailure

            why = "; ".join(dict.fromkeys(evidence.unchecked)) or "no evidence source answered"
            raise UpstreamFailure("aws", f"nothing could be read to diagnose it ({why})")
        results.append(to_json(diagnose(evidence)))
    if as_json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2, default=str))
    else:
        for result in results:
            print(_text(result))
    return EXIT_OK


def _audit(input_file: str | None, only: str | None, *, as_json: bool) -> int:
    from chalicelib.audit import analyzer, report, source, suppressions

    if input_file:
        details: source.Details = source.File(Path(input_file))
    else:
        from chalicelib.aws.session import Aws
        from chalicelib.config import Settings

        details = Aws(region=Settings.from_env().region).iam().details()
    result = analyzer.audit(details, suppressions=suppressions.load(), only=only)
    if as_json:
        report.write_json(result, sys.stdout)
    else:
        print(report.text(result))
    return EXIT_OK


def _text(result: dict[str, Any]) -> str:
    a, r = result["alarm"], result["resource"]
    lines = [f"{a['state']}  {a['name']}  ({r['type']} {r['name']}, {a['region']}, {a['time']})"]
    for i, c in enumerate(result["causes"], start=1):
        lines.append(f"  {i}. {c['kind']}  {c['confidence']:.0%}  {c['summary']}")
        lines.extend(f"       - {e}" for e in c["evidence"])
        if c["action"]:
            lines.append(f"       → {c['action']['label']}: {c['action']['command']}")
    return "\n".join(lines)


def _operate(args: argparse.Namespace) -> int:
    from deploy import commands
    from deploy.stack import Request

    slack_api_url = os.environ.get("SLACK_API_URL")
    if args.command == "deploy":
        members = (
            None
            if args.member_accounts is None
            else tuple(m.strip() for m in args.member_accounts.split(",") if m.strip())
        )
        request = Request(
            stage=args.stage,
            package=Path(args.package),
            operators=args.operators,
            channel=args.channel,
            members=members,
            bucket=args.bucket,
        )
        return commands.deploy(request)
    if args.command == "secrets":
        return commands.set_secrets(args.stage, slack_api_url=slack_api_url)
    return commands.doctor(args.stage, test_alarm=args.test_alarm, slack_api_url=slack_api_url)


def _local_setup() -> int:
    from chalicelib.aws.bootstrap import create_own_resources
    from chalicelib.aws.session import Aws
    from chalicelib.config import Settings

    s = Settings.from_env()
    done = create_own_resources(
        Aws(region=s.region),
        table=s.table,
        dead_letter_queue=s.dead_letter_queue,
        failure_queue=s.failure_queue,
        alarm_topic=s.alarm_topic,
    )
    print("\n".join(done))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
