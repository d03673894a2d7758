"""`shepherd deploy`: the package into a stack through a change set, on moto (S3, STS, SSM,
Lambda) with CloudFormation answered by botocore's Stubber (moto cannot run a SAM transform)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from chalicelib.errors import BadInput
from deploy import commands
from deploy.stack import Deployer, DeployFailed, Request
from tests.functional.conftest import answer_as_aws

ROOT = Path(__file__).resolve().parents[2]
STACK = "shepherd-prod"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/0c1d2e3f"
ENDPOINT = "https://abc123.execute-api.us-east-1.amazonaws.com/api/"


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """What `make package` writes: the merged template as the deploy reads it, and a zip."""
    doc = json.loads((ROOT / ".chalice" / "resources.json").read_text())
    for resource in doc["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "./deployment.zip"
    doc["Outputs"] = {"EndpointURL": {"Value": {"Fn::Sub": "https://${RestAPI}..."}}}
    (tmp_path / "sam.json").write_text(json.dumps(doc))
    (tmp_path / "deployment.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    return tmp_path


def with_quota(session: boto3.Session, unreserved: int, limit: int = 1000) -> Any:
    client = session.client("lambda")
    answer_as_aws(
        client,
        "GetAccountSettings",
        {
            "AccountLimit": {
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": unreserved,
            }
        },
    )
    return client


class Cfn:
    """CloudFormation as it answers a deploy, call by call."""

    def __init__(self, session: boto3.Session) -> None:
        self.client = session.client("cloudformation")
        self.stub = Stubber(self.client)
        self.stub.activate()

    def no_stack(self) -> None:
        self.stub.add_client_error(
            "describe_stacks",
            "ValidationError",
            f"Stack with id {STACK} does not exist",
            400,
            expected_params={"StackName": STACK},
        )

    def stack(self, status: str, parameters: dict[str, str] | None = None) -> None:
        stack: dict[str, Any] = {
            "StackId": STACK_ID,
            "StackName": STACK,
            "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
            "StackStatus": status,
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()
            ],
        }
        if status.endswith("COMPLETE"):
            stack["Outputs"] = [{"OutputKey": "EndpointURL", "OutputValue": ENDPOINT}]
        self.stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": STACK})

    def change_set(self, kind: str, parameters: Any = ANY) -> None:
        self.stub.add_response(
            "create_change_set",
            {"Id": f"{STACK_ID}/cs", "StackId": STACK_ID},
            {
                "StackName": STACK,
                "ChangeSetName": ANY,
                "ChangeSetType": kind,
                "TemplateURL": ANY,
                "Parameters": parameters,
                "Capabilities": ANY,
                "Tags": ANY,
                "Description": ANY,
            },
        )

    def described(self, status: str, reason: str = "", changes: int = 3) -> None:
        answer: dict[str, Any] = {
            "ChangeSetName": "cs",
            "StackName": STACK,
            "Status": status,
            "ExecutionStatus": "AVAILABLE" if status == "CREATE_COMPLETE" else "UNAVAILABLE",
            "Changes": [
                {
                    "Type": "Resource",
                    "ResourceChange": {"Action": "Add", "LogicalResourceId": f"R{i}"},
                }
                for i in range(changes)
            ],
        }
        if reason:
            answer["StatusReason"] = reason
        self.stub.add_response(
            "describe_change_set", answer, {"StackName": STACK, "ChangeSetName": ANY}
        )
        if status == "FAILED":
            self.stub.add_response(
                "delete_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY}
            )

    def executed(self) -> None:
        self.stub.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY})

    def events(self, *events: tuple[str, str, str]) -> None:
        later = datetime.now(UTC) + timedelta(minutes=5)  # after the deploy's start, as AWS's are
        self.stub.add_response(
            "describe_stack_events",
            {
                "StackEvents": [
                    {
                        "StackId": STACK_ID,
                        "EventId": f"e{i}-{logical}-{status}",
                        "StackName": STACK,
                        "LogicalResourceId": logical,
                        "ResourceType": "AWS::Lambda::Function",
                        "Timestamp": later + timedelta(seconds=i),
                        "ResourceStatus": status,
                        **({"ResourceStatusReason": reason} if reason else {}),
                    }
                    for i, (logical, status, reason) in reversed(list(enumerate(events)))
                ]
            },
            {"StackName": STACK},
        )


def deployer(session: boto3.Session, cfn: Cfn, lambda_client: Any, out: list[str]) -> Deployer:
    return Deployer(
        session,
        out.append,
        sleep=lambda _: None,
        clients={"cloudformation": cfn.client, "lambda": lambda_client},
    )


def test_a_first_deploy_creates_the_bucket_uploads_and_creates_the_stack(
    session: boto3.Session, package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cfn, out = Cfn(session), []
    cfn.no_stack()
    cfn.change_set("CREATE", ANY)
    cfn.described("CREATE_COMPLETE", changes=23)
    cfn.executed()
    cfn.events(("OnAlarm", "CREATE_IN_PROGRESS", ""))
    cfn.stack("CREATE_IN_PROGRESS")
    cfn.events(("OnAlarm", "CREATE_IN_PROGRESS", ""), ("OnAlarm", "CREATE_COMPLETE", ""))
    cfn.stack("CREATE_COMPLETE")
    cfn.stack("CREATE_COMPLETE")
    request = Request(
        package=package, operators="U0LEAD,S0ONCALL", channel="#prod-alarms", members=()
    )

    code = commands.deploy(
        request, out=out.append, deployer=deployer(session, cfn, with_quota(session, 1000), out)
    )

    assert code == 0
    cfn.stub.assert_no_pending_responses()
    s3 = session.client("s3")
    bucket = "shepherd-deploy-123456789012-us-east-1"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    [template_key] = [k for k in keys if k.endswith(".json")]
    [code_key] = [k for k in keys if k.endswith(".zip")]
    uploaded = json.loads(s3.get_object(Bucket=bucket, Key=template_key)["Body"].read())
    assert uploaded["Resources"]["OnAlarm"]["Properties"]["CodeUri"] == {
        "Bucket": bucket,
        "Key": code_key,
    }
    printed = "\n".join(out)
    assert "23 to add" in printed
    assert "CREATE_COMPLETE" in printed
    assert f"Slack request URL: {ENDPOINT}slack/events" in printed
    assert "shepherd secrets set --stage prod" in printed  # no secrets in SSM yet
    manifest = (tmp_path / "build" / "deploy" / "slack-app-manifest.yml").read_text()
    assert f"{ENDPOINT}slack/events" in manifest and "API_URL" not in manifest


def test_the_change_set_carries_operators_channel_members_and_fitted_reservations(
    session: boto3.Session, package: Path
) -> None:
    cfn, out = Cfn(session), []
    cfn.no_stack()
    parameters = [
        {"ParameterKey": "MemberAccountIds", "ParameterValue": "210987654321"},
        {"ParameterKey": "Operators", "ParameterValue": "U0LEAD"},
        {"ParameterKey": "Channel", "ParameterValue": "C0PRODALRM"},
        *(
            {"ParameterKey": p, "ParameterValue": "0"}
            for p in (
                "OnAlarmReserved",
                "OnAlarmEventReserved",
                "OnAlarmActionReserved",
                "OnFailureReserved",
                "APIHandlerReserved",
                "NightlyIamAuditReserved",
                "AlarmRemindersReserved",
            )
        ),
    ]
    cfn.change_set("CREATE", parameters)
    cfn.described("FAILED", "Parameter validation failed: stop here")
    request = Request(
        package=package, operators="U0LEAD", channel="C0PRODALRM", members=("210987654321",)
    )
    with pytest.raises(DeployFailed, match="Parameter validation failed"):
        deployer(session, cfn, with_quota(session, 10, limit=10), out).deploy(request)
    cfn.stub.assert_no_pending_responses()  # the parameters were as expected
    assert "Reserved concurrency: none (concurrency quota 10" in "\n".join(out)


def test_a_deploy_with_no_operators_is_refused_before_anything_is_made(
    session: boto3.Session, package: Path
) -> None:
    cfn, out = Cfn(session), []
    cfn.no_stack()
    with pytest.raises(BadInput, match="no operators: every change from /ops would be refused"):
        deployer(session, cfn, with_quota(session, 1000), out).deploy(Request(package=package))
    assert session.client("s3").list_buckets()["Buckets"] == []
    cfn.stub.assert_no_pending_responses()


@pytest.mark.parametrize("operators", ["alice", "U0LEAD,#ops"])
def test_operators_that_are_not_slack_ids_are_refused(
    session: boto3.Session, package: Path, operators: str
) -> None:
    cfn = Cfn(session)
    cfn.no_stack()
    with pytest.raises(BadInput, match="Slack user ids"):
        deployer(session, cfn, with_quota(session, 1000), []).deploy(
            Request(package=package, operators=operators)
        )


def test_a_second_deploy_updates_keeping_the_stack_s_operators_and_reservations_fitted_again(
    session: boto3.Session, package: Path
) -> None:
    cfn, out = Cfn(session), []
    previous = {"Operators": "U0LEAD", "Channel": "#ops-alarms", "MemberAccountIds": ""}
    cfn.stack("UPDATE_COMPLETE", previous)
    expected = [
        {"ParameterKey": "MemberAccountIds", "UsePreviousValue": True},
        {"ParameterKey": "Operators", "UsePreviousValue": True},
        {"ParameterKey": "Channel", "UsePreviousValue": True},
        *(
            {"ParameterKey": p, "ParameterValue": v}
            for p, v in (
                ("OnAlarmReserved", "10"),
                ("OnAlarmEventReserved", "10"),
                ("OnAlarmActionReserved", "10"),
                ("OnFailureReserved", "5"),
                ("APIHandlerReserved", "20"),
                ("NightlyIamAuditReserved", "1"),
                ("AlarmRemindersReserved", "1"),
            )
        ),
    ]
    cfn.change_set("UPDATE", expected)
    cfn.described(
        "FAILED",
        "The submitted information didn't contain changes. Submit different information to create a change set.",
    )
    cfn.stack("UPDATE_COMPLETE", previous)
    deployed = deployer(session, cfn, with_quota(session, 1000), out).deploy(
        Request(package=package)
    )
    cfn.stub.assert_no_pending_responses()
    assert not deployed.changed
    assert deployed.request_url == f"{ENDPOINT}slack/events"
    assert "is up to date: nothing to change" in "\n".join(out)
    uploads = [line for line in out if line.strip().startswith("upload")]
    assert len(uploads) == 2


def test_the_same_package_is_uploaded_once(session: boto3.Session, package: Path) -> None:
    out: list[str] = []
    for _ in range(2):
        cfn = Cfn(session)
        cfn.stack("UPDATE_COMPLETE", {"Operators": "U0LEAD"})
        cfn.change_set("UPDATE")
        cfn.described("FAILED", "No updates are to be performed.")
        cfn.stack("UPDATE_COMPLETE", {"Operators": "U0LEAD"})
        deployer(session, cfn, with_quota(session, 1000), out).deploy(Request(package=package))
    assert sum("already there" in line for line in out) == 2  # code and template, second time


def test_a_failed_stack_says_the_first_resource_that_failed_and_why(
    session: boto3.Session, package: Path
) -> None:
    cfn, out = Cfn(session), []
    cfn.no_stack()
    cfn.change_set("CREATE")
    cfn.described("CREATE_COMPLETE")
    cfn.executed()
    reason = (
        'Resource handler returned message: "Specified ReservedConcurrentExecutions for function '
        "decreases account's UnreservedConcurrentExecution below its minimum value of [100].\""
    )
    cfn.events(
        ("OnAlarm", "CREATE_IN_PROGRESS", ""),
        ("OnAlarm", "CREATE_FAILED", reason),
        ("APIHandler", "CREATE_FAILED", "Resource creation cancelled"),
        (STACK, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [OnAlarm]"),
    )
    cfn.stack("ROLLBACK_COMPLETE")
    with pytest.raises(DeployFailed) as failed:
        deployer(session, cfn, with_quota(session, 1000), out).deploy(
            Request(package=package, operators="U0LEAD")
        )
    message = str(failed.value)
    assert message.startswith("stack shepherd-prod is ROLLBACK_COMPLETE: OnAlarm")
    assert "below its minimum value of [100]" in message
    assert "the next deploy deletes it and starts again" in message


def test_a_stack_left_by_a_failed_first_deploy_is_deleted_then_created(
    session: boto3.Session, package: Path
) -> None:
    cfn, out = Cfn(session), []
    cfn.stack("ROLLBACK_COMPLETE", {"Operators": "U0LEAD"})
    cfn.stub.add_response("delete_stack", {}, {"StackName": STACK})
    cfn.events()
    cfn.no_stack()
    cfn.change_set("CREATE")
    cfn.described("FAILED", "stop here")
    with pytest.raises(DeployFailed, match="stop here"):
        deployer(session, cfn, with_quota(session, 1000), out).deploy(
            Request(package=package, operators="U0LEAD")
        )
    cfn.stub.assert_no_pending_responses()
    assert any("deleting it" in line for line in out)


def test_a_deploy_while_another_runs_is_refused(session: boto3.Session, package: Path) -> None:
    cfn = Cfn(session)
    cfn.stack("UPDATE_IN_PROGRESS", {"Operators": "U0LEAD"})
    with pytest.raises(DeployFailed, match="another deploy or rollback is running"):
        deployer(session, cfn, with_quota(session, 1000), []).deploy(Request(package=package))


def test_a_bucket_name_taken_by_another_account_says_how_to_name_one(
    session: boto3.Session, package: Path
) -> None:
    cfn = Cfn(session)
    cfn.no_stack()
    s3 = session.client("s3")
    s3.create_bucket(Bucket="shepherd-deploy-123456789012-us-east-1")
    stub = Stubber(s3)
    stub.add_client_error("head_bucket", "403", "Forbidden", 403)
    stub.activate()
    with pytest.raises(DeployFailed, match="--bucket"):
        Deployer(
            session,
            lambda _: None,
            sleep=lambda _: None,
            clients={"cloudformation": cfn.client, "lambda": with_quota(session, 1000), "s3": s3},
        ).deploy(Request(package=package, operators="U0LEAD"))


def test_secrets_are_checked_with_slack_then_stored_encrypted(
    session: boto3.Session, slack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    answers = iter(["xoxb-1-2-abc", "0123456789abcdef0123456789abcdef"])
    out: list[str] = []
    commands.set_secrets(
        "prod",
        session,
        read=lambda _: next(answers),
        out=out.append,
        slack_api_url=os.environ["SLACK_API_URL"],
    )
    ssm = session.client("ssm")
    token = ssm.get_parameter(Name="/shepherd/slack-bot-token", WithDecryption=True)["Parameter"]
    assert token["Type"] == "SecureString" and token["Value"] == "xoxb-1-2-abc"
    assert "bot UBOT" in out[0]


def test_a_token_slack_refuses_is_not_stored(
    session: boto3.Session, slack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    slack.valid_tokens = {"xoxb-the-right-one"}
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "0123456789abcdef0123456789abcdef")
    with pytest.raises(BadInput, match="invalid_auth"):
        commands.set_secrets("prod", session, slack_api_url=os.environ["SLACK_API_URL"])
    assert session.client("ssm").describe_parameters()["Parameters"] == []


def test_the_cli_names_a_missing_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chalicelib.cli import main

    with mock_aws():
        code = main(["deploy", "--package", str(tmp_path / "nothing"), "--operators", "U0LEAD"])
    assert code == 2
    assert "run `make package` first" in capsys.readouterr().err


def test_an_empty_stack_left_by_a_failed_first_change_set_is_created_anew(
    session: boto3.Session, package: Path
) -> None:
    """A first CREATE change set that fails leaves its stack REVIEW_IN_PROGRESS, for good."""
    cfn, out = Cfn(session), []
    cfn.stack("REVIEW_IN_PROGRESS")
    cfn.change_set("CREATE")
    cfn.described("FAILED", "stop here")
    with pytest.raises(DeployFailed, match="stop here"):
        deployer(session, cfn, with_quota(session, 1000), out).deploy(
            Request(package=package, operators="U0LEAD")
        )
    cfn.stub.assert_no_pending_responses()  # a CREATE change set, not a refusal to wait


@pytest.mark.parametrize(
    ("status", "remedy"),
    [
        ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback --stack-name shepherd-prod"),
        ("DELETE_FAILED", "retaining the resources it names"),
    ],
)
def test_a_stuck_stack_says_how_to_get_it_out(
    session: boto3.Session, package: Path, status: str, remedy: str
) -> None:
    cfn = Cfn(session)
    cfn.stack(status, {"Operators": "U0LEAD"})
    with pytest.raises(DeployFailed, match=remedy):
        deployer(session, cfn, with_quota(session, 1000), []).deploy(Request(package=package))
    assert session.client("s3").list_buckets()["Buckets"] == []  # nothing made first


def test_a_bucket_in_another_region_is_refused_with_the_reason(
    session: boto3.Session, package: Path
) -> None:
    cfn = Cfn(session)
    cfn.no_stack()
    session.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="team-artifacts", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    with pytest.raises(DeployFailed, match="is in eu-west-1, the stack in us-east-1"):
        deployer(session, cfn, with_quota(session, 1000), []).deploy(
            Request(package=package, operators="U0LEAD", bucket="team-artifacts")
        )
