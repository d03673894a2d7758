"""The audit through the real handlers on moto: the schedule posts what is new and what was fixed,
and nothing when nothing changed; `/ops audit` posts a summary with the details in a thread."""

from __future__ import annotations

import json
import os

import boto3
from chalice.test import Client

from devtools.fake_slack import FakeSlack
from tests.functional.test_ops_commands import answers, slash

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def grant(iam: object, role: str, action: str | list[str], resource: str = "*") -> None:
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST)  # type: ignore[attr-defined]
    iam.put_role_policy(  # type: ignore[attr-defined]
        RoleName=role,
        PolicyName="app",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}],
            }
        ),
    )


def tick(client: Client) -> dict[str, object]:
    """The event EventBridge's schedule delivers."""
    return client.events.generate_cw_event(  # type: ignore[no-any-return]
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )


def posts(slack: FakeSlack) -> list[dict[str, object]]:
    return [c.args for c in slack.calls_to("chat.postMessage")]


def test_schedule_posts_first_run_then_only_new_and_fixed_then_nothing(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    iam = aws.client("iam")
    grant(iam, "deployer", "iam:PassRole")
    grant(iam, "reader", "s3:GetObject")

    first = client.lambda_.invoke("nightly_iam_audit", tick(client)).payload
    assert first["posted"] is True
    summary = posts(slack)[0]
    assert summary["channel"] == "#ops-alarms"
    assert "first run" in str(summary["text"])
    assert any("deployer" in str(p["text"]) for p in posts(slack)[1:])  # details in the thread

    iam.delete_role_policy(RoleName="deployer", PolicyName="app")  # fixed
    grant(iam, "etl", "s3:*")  # new
    before = len(posts(slack))
    second = client.lambda_.invoke("nightly_iam_audit", tick(client)).payload
    # s3:* is 2 kinds; PassRole on * was one finding (not repeated as a resource wildcard)
    assert (second["new"], second["fixed"]) == (2, 1)
    changes = posts(slack)[before:]
    header = changes[0]["blocks"][1]["text"]["text"]  # type: ignore[index]
    assert "*2 new*, *1 fixed*" in header
    thread = "\n".join(str(p["text"]) for p in changes[1:])
    assert "role/etl" in thread
    assert "fixed" in thread and "role/deployer" in thread
    assert all(p.get("thread_ts") for p in changes[1:])

    before = len(posts(slack))
    third = client.lambda_.invoke("nightly_iam_audit", tick(client)).payload
    assert third == {"new": 0, "fixed": 0, "changed": 0, "posted": False}
    assert len(posts(slack)) == before


def test_schedule_reports_a_narrowed_statement_as_changed(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    iam = aws.client("iam")
    grant(iam, "etl", ["s3:PutObject", "s3:DeleteObject"])
    client.lambda_.invoke("nightly_iam_audit", tick(client))
    grant_again = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="etl", PolicyName="app", PolicyDocument=json.dumps(grant_again))
    before = len(posts(slack))
    second = client.lambda_.invoke("nightly_iam_audit", tick(client)).payload
    assert second == {"new": 0, "fixed": 0, "changed": 1, "posted": True}
    header, *thread = posts(slack)[before:]
    assert "*0 new*, *0 fixed*, *1 changed*" in header["blocks"][1]["text"]["text"]  # type: ignore[index]
    assert ":arrows_counterclockwise: changed:" in str(thread[0]["text"])
    assert "`s3:PutObject`" in str(thread[0]["text"])


def test_ops_audit_posts_summary_with_details_in_a_thread(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    grant(aws.client("iam"), "deployer", "iam:PassRole")
    slash(client, os.environ["SLACK_API_URL"], "audit pass_role_wildcard", channel="ops-alarms")
    summary, *thread = posts(slack)
    assert summary["channel"] == "C0ALARMS"
    assert "1 finding(s)" in str(summary["text"])
    assert thread and "role/deployer" in str(thread[0]["text"])
    assert "details in the thread" in answers(slack)[0]["text"]


def test_ops_audit_elsewhere_is_shown_to_an_operator_only_and_refused_to_others(
    client: Client, aws: boto3.Session, slack: FakeSlack
) -> None:
    grant(aws.client("iam"), "deployer", "iam:PassRole")
    slash(client, os.environ["SLACK_API_URL"], "audit", channel="random")
    assert posts(slack) == []  # nothing posted into a channel that is not a viewer channel
    mine = answers(slack)[0]
    assert "Shown to you only" in mine["text"] and "role/deployer" in str(mine["blocks"])

    slash(client, os.environ["SLACK_API_URL"], "audit", user="USTRANGER", channel="random")
    refused = answers(slack)[1]["text"]
    assert "Refused" in refused and "shown to viewers only" in refused
    assert "role/deployer" not in refused
    assert posts(slack) == []
