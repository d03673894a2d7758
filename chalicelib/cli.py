"""`shepherd`: diagnose an event file, audit IAM, set up local resources (PRODUCT.md §7)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chalicelib.errors import BadInput

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class CliBadInput(Exception):
    pass


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
    args = parser.parse_args(argv)
    try:
        if args.command == "diagnose":
            return _diagnose(Path(args.event_file), as_json=args.json)
        if args.command == "audit":
            return _audit(args.input, args.filter, as_json=args.json)
        return _local_setup()
    except (CliBadInput, BadInput) as exc:
        print(f"shepherd: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:
        print(f"shepherd: failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _diagnose(path: Path, *, as_json: bool) -> int:
    from chalicelib.aws import Aws
    from chalicelib.config import Settings
    from chalicelib.diagnosis.gather import gather
    from chalicelib.diagnosis.rules import diagnose
    from chalicelib.events.ingest import parse_event
    from chalicelib.slack.render import to_json

    try:
        event = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliBadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliBadInput(f"{path} is not JSON: {exc}") from exc
    batch = parse_event(event)
    if not batch.signals:
        reasons = "; ".join(f"{s.where}: {s.reason}" for s in batch.skipped) or "empty"
        raise CliBadInput(f"{path} holds no alarm or destination record ({reasons})")
    aws = Aws(region=Settings.from_env().region)
    results = [to_json(diagnose(gather(signal, aws))) for signal in batch.signals]
    if as_json:
        print(json.dumps(results[0] if len(results) == 1 else results, indent=2, default=str))
    else:
        for result in results:
            print(_text(result))
    return EXIT_OK


def _audit(input_file: str | None, only: str | None, *, as_json: bool) -> int:
    from chalicelib.audit import analyzer, report, source, suppressions

    if input_file:
        details = source.read(Path(input_file))
    else:
        from chalicelib.aws import Aws
        from chalicelib.config import Settings

        details = source.fetch(Aws(region=Settings.from_env().region).client("iam"))
    result = analyzer.audit(details, suppressions=suppressions.load(), only=only)
    print(json.dumps(result.to_json(), indent=2) if as_json else report.text(result))
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


def _local_setup() -> int:
    from chalicelib.aws import Aws
    from chalicelib.config import Settings
    from chalicelib.state import create_table

    settings = Settings.from_env()
    aws = Aws(region=settings.region)
    created = create_table(aws.client("dynamodb"), settings.table)
    print(f"state table {settings.table}: {'created' if created else 'exists'}")
    sqs = aws.client("sqs")
    dlq_url = sqs.create_queue(QueueName=settings.dead_letter_queue)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    print(f"queue {settings.dead_letter_queue}: ready (Shepherd's own dead-letter queue)")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    sqs.create_queue(QueueName=settings.failure_queue, Attributes={"RedrivePolicy": redrive})
    print(f"queue {settings.failure_queue}: ready (on-failure destination records)")
    topic = aws.client("sns").create_topic(Name=settings.alarm_topic)["TopicArn"]
    print(f"topic {settings.alarm_topic}: ready ({topic})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
