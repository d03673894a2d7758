"""`shepherd doctor` against a deployed Shepherd: moto for what the stack made (functions, topic,
rule, parameters, alarms), Stubber for CloudFormation, the fake Slack for the token and channel,
Shepherd's real app behind a local HTTP endpoint, and its real probe answering the invoke. Every
check is shown passing, and each is made to fail by the mistake it is there to catch."""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.container import Container
from deploy.doctor import FAIL, OK, Check, Doctor
from devtools.fake_slack import FakeSlack
from tests.functional.conftest import SIGNING_SECRET

STACK = "shepherd-prod"
FUNCTIONS = (
    "on_alarm",
    "on_alarm_event",
    "on_alarm_action",
    "on_failure",
    "api_handler",
    "nightly_iam_audit",
    "alarm_reminders",
)
RULE = "shepherd-prod-OnAlarmEventOnAlarmEventEvent-1X2Y3Z"


class Endpoint:
    """API Gateway in front of Shepherd's app: POSTs relayed to chalice's test client."""

    def __init__(self, client: Any) -> None:
        relay = client

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = relay.http.post(
                    self.path.removeprefix("/api"), headers=dict(self.headers), body=body
                )
                self.send_response(answer.status_code)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        serve = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        serve.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class World:
    """What `make deploy` leaves in the account, as moto holds it."""

    def __init__(self, aws: boto3.Session, endpoint: str) -> None:
        self.aws = aws
        self.endpoint = endpoint
        iam = aws.client("iam")
        role = iam.create_role(RoleName="shepherd-prod-role", AssumeRolePolicyDocument="{}")
        lam = aws.client("lambda")
        self.arns = {}
        for f in FUNCTIONS:
            made = lam.create_function(
                FunctionName=f"shepherd-prod-{f}",
                Runtime="python3.11",
                Role=role["Role"]["Arn"],
                Handler=f"app.{f}",
                Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
            )
            self.arns[f] = made["FunctionArn"]
        sns = aws.client("sns")
        self.topic = sns.create_topic(Name="shepherd-alarms")["TopicArn"]
        sns.subscribe(TopicArn=self.topic, Protocol="lambda", Endpoint=self.arns["on_alarm"])
        events = aws.client("events")
        events.put_rule(
            Name=RULE,
            EventPattern=json.dumps(
                {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
            ),
            State="ENABLED",
        )
        events.put_targets(Rule=RULE, Targets=[{"Id": "1", "Arn": self.arns["on_alarm_event"]}])
        ssm = aws.client("ssm")
        ssm.put_parameter(
            Name="/shepherd/slack-bot-token", Value="xoxb-test-token", Type="SecureString"
        )
        self.store_signing_secret(SIGNING_SECRET)
        self.alarm("orders-errors")
        self.parameters = {"Operators": "UOPERATOR", "Channel": "#ops-alarms"}
        self.status = "UPDATE_COMPLETE"
        self.probe_override: dict[str, Any] | None = None

    def alarm(self, name: str, actions: tuple[str, ...] = ()) -> None:
        self.aws.client("cloudwatch").put_metric_alarm(
            AlarmName=name,
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=list(actions),
        )

    def store_signing_secret(self, secret: str) -> None:
        self.aws.client("ssm").put_parameter(
            Name="/shepherd/slack-signing-secret", Value=secret, Type="SecureString", Overwrite=True
        )

    def cloudformation(self) -> Any:
        client = self.aws.client("cloudformation")
        stub = Stubber(client)
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": STACK,
                        "CreationTime": datetime(2026, 12, 1, tzinfo=UTC),
                        "StackStatus": self.status,
                        "Parameters": [
                            {"ParameterKey": k, "ParameterValue": v}
                            for k, v in self.parameters.items()
                        ],
                        "Outputs": [{"OutputKey": "EndpointURL", "OutputValue": self.endpoint}],
                    }
                ]
            },
            {"StackName": STACK},
        )
        resources = [
            ("AlarmTopic", "AWS::SNS::Topic", self.topic),
            ("OnAlarmEventOnAlarmEventEvent", "AWS::Events::Rule", RULE),
            *(
                (f"F{i}", "AWS::Lambda::Function", f"shepherd-prod-{f}")
                for i, f in enumerate(FUNCTIONS)
            ),
        ]
        stub.add_response(
            "list_stack_resources",
            {
                "StackResourceSummaries": [
                    {
                        "LogicalResourceId": logical,
                        "PhysicalResourceId": physical,
                        "ResourceType": kind,
                        "LastUpdatedTimestamp": datetime(2026, 12, 1, tzinfo=UTC),
                        "ResourceStatus": "CREATE_COMPLETE",
                    }
                    for logical, kind, physical in resources
                ]
            },
            {"StackName": STACK},
        )
        stub.activate()
        return client

    def lambda_client(self) -> Any:
        """moto's Lambda, whose Invoke runs Shepherd's real handler in-process (moto would need
        Docker to run it)."""
        client = self.aws.client("lambda")

        def invoke(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
            import app

            if self.probe_override is not None:
                result = self.probe_override
            else:
                result = app.on_alarm_action(json.loads(params["body"]), Context())
            body = io.BytesIO(json.dumps(result).encode())
            return SimpleNamespace(status_code=200), {"StatusCode": 200, "Payload": body}

        client.meta.events.register("before-call.lambda.Invoke", invoke)
        return client


class Context:
    aws_request_id = "doctor-probe"
    invoked_function_arn = (
        "arn:aws:lambda:us-east-1:123456789012:function:shepherd-prod-on_alarm_action"
    )

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def world(client: Any, bot_env: Container) -> Iterator[World]:
    endpoint = Endpoint(client)
    try:
        yield World(bot_env.aws.session, endpoint.url)
    finally:
        endpoint.close()


def doctor(world: World, slack_url: str, **kw: Any) -> Doctor:
    kw.setdefault("sleep", lambda _: None)
    return Doctor(
        world.aws,
        slack_api_url=slack_url,
        clients={"cloudformation": world.cloudformation(), "lambda": world.lambda_client()},
        **kw,
    )


def run(world: World, slack_url: str) -> dict[str, Check]:
    return {c.name: c for c in doctor(world, slack_url).checks()}


def test_a_healthy_deployment_passes_every_check(world: World, slack_url: str) -> None:
    checks = run(world, slack_url)
    assert {n: c.status for n, c in checks.items() if c.status != OK} == {}
    assert set(checks) == {
        "stack",
        "functions",
        "secrets",
        "slack token",
        "endpoint",
        "alarm channel",
        "alarm topic",
        "eventbridge rule",
        "alarms",
        "mute rules",
        "operators",
        "runbooks",
        "member accounts",
    }
    assert "answers Slack's signed url_verification" in checks["endpoint"].detail
    assert checks["runbooks"].detail == "none configured (policies/runbooks.json)"
    assert "1 alarm(s) reach Shepherd through the EventBridge rule" in checks["alarms"].detail


def failing(world: World, slack_url: str, name: str) -> Check:
    check = run(world, slack_url)[name]
    assert check.status == FAIL, check
    assert check.fix, "a failing check says what to do"
    return check


def test_no_stack(aws: boto3.Session, slack_url: str) -> None:
    client = aws.client("cloudformation")
    with Stubber(client) as stub:
        stub.add_client_error(
            "describe_stacks", "ValidationError", "Stack with id shepherd-prod does not exist"
        )
        checks = list(Doctor(aws, clients={"cloudformation": client}).checks())
    assert checks[0].status == FAIL and checks[0].fix == "make deploy"
    assert all(c.status != OK for c in checks)  # nothing else is claimed to work


def test_a_stack_that_rolled_back(world: World, slack_url: str) -> None:
    world.status = "UPDATE_ROLLBACK_FAILED"
    assert "is UPDATE_ROLLBACK_FAILED" in failing(world, slack_url, "stack").detail


def test_a_function_whose_update_failed(world: World, slack_url: str) -> None:
    lam = world.aws.client("lambda")
    lam.delete_function(FunctionName="shepherd-prod-on_failure")
    assert (
        "shepherd-prod-on_failure: ResourceNotFoundException"
        in failing(world, slack_url, "functions").detail
    )


def test_secrets_missing(world: World, slack_url: str) -> None:
    world.aws.client("ssm").delete_parameter(Name="/shepherd/slack-signing-secret")
    check = failing(world, slack_url, "secrets")
    assert check.fix == "shepherd secrets set --stage prod"


def test_a_revoked_token(world: World, slack_url: str, slack: FakeSlack) -> None:
    slack.valid_tokens = {"xoxb-another"}
    assert "auth.test: invalid_auth" in failing(world, slack_url, "slack token").detail


def test_a_token_without_a_scope_the_manifest_asks_for(
    world: World, slack_url: str, slack: FakeSlack
) -> None:
    slack.scopes = "commands,chat:write"
    check = failing(world, slack_url, "slack token")
    assert "files:write" in check.detail and "Reinstall" in check.fix


def test_a_signing_secret_that_is_not_the_app_s(world: World, slack_url: str) -> None:
    world.store_signing_secret("0123456789abcdef0123456789abcdef")
    check = failing(world, slack_url, "endpoint")
    assert "refused a request signed with the signing secret in SSM" in check.detail


def test_an_endpoint_nobody_answers(world: World, slack_url: str) -> None:
    world.endpoint = "http://127.0.0.1:9/api/"
    assert "unreachable" in failing(world, slack_url, "endpoint").detail


def test_the_bot_not_in_the_alarm_channel(world: World, slack_url: str, slack: FakeSlack) -> None:
    slack.outside.add("C0OPSALARM")
    check = failing(world, slack_url, "alarm channel")
    assert "/invite @shepherd" in check.fix


def test_an_alarm_channel_that_does_not_exist(world: World, slack_url: str) -> None:
    world.parameters["Channel"] = "#no-such-channel"
    assert "no channel #no-such-channel" in failing(world, slack_url, "alarm channel").detail


def test_the_topic_without_shepherd_s_subscription(world: World, slack_url: str) -> None:
    unsubscribe_the_function(world)
    assert "has no subscription" in failing(world, slack_url, "alarm topic").detail


def test_a_disabled_rule_and_the_alarms_it_leaves_unheard(world: World, slack_url: str) -> None:
    world.aws.client("events").disable_rule(Name=RULE)
    checks = run(world, slack_url)
    assert checks["eventbridge rule"].status == FAIL
    assert f"aws events enable-rule --name {RULE}" == checks["eventbridge rule"].fix
    assert checks["alarms"].status == FAIL
    assert (
        "1 of 1 alarm(s) point nowhere Shepherd listens: orders-errors" in checks["alarms"].detail
    )


def test_with_the_rule_disabled_an_alarm_notifying_the_topic_is_heard(
    world: World, slack_url: str
) -> None:
    world.aws.client("events").disable_rule(Name=RULE)
    world.alarm("orders-errors", actions=(world.topic,))
    assert run(world, slack_url)["alarms"].status == OK


def test_a_runtime_without_mute_rules(world: World, slack_url: str) -> None:
    world.probe_override = {
        "botocore": "1.38.0",
        "mute_rules": False,
        "accounts": {},
        "operators": 1,
    }
    check = failing(world, slack_url, "mute rules")
    assert "botocore 1.38.0 has no alarm mute rules" in check.detail


def test_no_operators(world: World, slack_url: str, bot_env: Container) -> None:
    from dataclasses import replace

    bot_env.settings = replace(bot_env.settings, operators=())
    assert "every change from /ops is refused" in failing(world, slack_url, "operators").detail


def test_a_member_account_that_cannot_be_assumed(
    world: World, slack_url: str, bot_env: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from botocore.exceptions import ClientError

    from chalicelib.accounts import Account, Accounts

    good = Account(
        "210987654321", "staging", "arn:aws:iam::210987654321:role/shepherd-member", "e" * 20
    )
    bad = Account(
        "310987654321", "sandbox", "arn:aws:iam::310987654321:role/shepherd-member", "x" * 20
    )
    bot_env.settings = replace(bot_env.settings, accounts=Accounts((good, bad)))

    def refuse(params: dict[str, Any], **_: Any) -> None:  # before the request is built
        if params["RoleArn"] == bad.role:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDenied",
                        "Message": "not authorized to perform: sts:AssumeRole",
                    }
                },
                "AssumeRole",
            )
        assert params["ExternalId"] == good.external_id

    bot_env.aws.client("sts").meta.events.register("before-parameter-build.sts.AssumeRole", refuse)
    checks = run(world, slack_url)
    assert checks["account staging"].status == OK
    sandbox = checks["account sandbox"]
    assert sandbox.status == FAIL and "AccessDenied" in sandbox.detail
    assert "deploy/member-account.yaml in 310987654321" in sandbox.fix


def test_the_test_alarm_goes_through_the_topic_and_comes_out_in_the_channel(
    world: World, slack_url: str, slack: FakeSlack
) -> None:
    """The topic's subscription stands in for SNS invoking on_alarm: what SNS delivers is what
    the real handler is given."""
    import app

    unsubscribe_the_function(world)
    sqs = world.aws.client("sqs")
    queue = sqs.create_queue(QueueName="deliveries")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    world.aws.client("sns").subscribe(TopicArn=world.topic, Protocol="sqs", Endpoint=queue_arn)
    stop = threading.Event()

    def deliver() -> None:
        while not stop.is_set():
            got = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0, MaxNumberOfMessages=10)
            for m in got.get("Messages", []):
                event = {
                    "Records": [
                        {"eventSource": "aws:sqs", "messageId": m["MessageId"], "body": m["Body"]}
                    ]
                }
                app.on_alarm_action(event, Context())
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
            stop.wait(0.05)

    pump = threading.Thread(target=deliver, daemon=True)
    pump.start()
    try:
        found = doctor(world, slack_url, sleep=lambda _: time.sleep(0.05))  # a real wait
        list(found.checks())
        check = found.test_alarm(timeout_s=60)
    finally:
        stop.set()
        pump.join(5)
    assert check.status == OK, check
    [posted] = [m for m in slack.channel_messages() if "shepherd-doctor-" in m.text]
    assert "shepherd-prod-alarm_reminders" in json.dumps(posted.blocks)


def test_a_test_alarm_that_never_arrives(world: World, slack_url: str) -> None:
    unsubscribe_the_function(world)
    found = doctor(world, slack_url, clock=ticking())
    list(found.checks())
    check = found.test_alarm(timeout_s=2)
    assert check.status == FAIL
    assert "no message in the channel after 2 s" in check.detail
    assert "aws logs tail /aws/lambda/shepherd-prod-on_alarm" in check.fix


def test_the_cli_exits_1_when_a_check_fails(world: World, slack_url: str, slack: FakeSlack) -> None:
    from deploy import commands

    slack.outside.add("C0OPSALARM")
    out: list[str] = []
    code = commands.doctor("prod", out=out.append, built=doctor(world, slack_url))
    assert code == 1
    assert any(line.startswith("  ✗ alarm channel") for line in out)
    assert any("→ /invite @shepherd" in line for line in out)
    assert out[-1] == "1 check(s) failed."


def unsubscribe_the_function(world: World) -> None:
    """moto would need Docker to deliver to on_alarm: a test that publishes delivers by hand."""
    sns = world.aws.client("sns")
    for s in sns.list_subscriptions_by_topic(TopicArn=world.topic)["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=s["SubscriptionArn"])


def ticking() -> Any:
    """A clock that moves one second each time it is read: a wait ends without waiting."""
    ticks = itertools.count()
    return lambda: float(next(ticks))


def test_aws_out_of_reach_is_said_as_such_not_as_a_missing_deploy(aws: boto3.Session) -> None:
    from botocore.config import Config

    nowhere = Config(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=1)
    clients = {
        service: aws.client(service, endpoint_url="http://127.0.0.1:9", config=nowhere)
        for service in ("cloudformation", "ssm")
    }
    checks = list(Doctor(aws, clients=clients).checks())
    stack = checks[0]
    assert stack.status == FAIL and stack.detail.startswith("AWS could not be reached")
    assert "network" in stack.fix
    assert not any(c.fix == "make deploy" for c in checks)  # nothing says to deploy again


def test_a_stack_whose_last_update_rolled_back_still_serves(world: World, slack_url: str) -> None:
    from deploy.doctor import WARN

    world.status = "UPDATE_ROLLBACK_COMPLETE"
    check = run(world, slack_url)["stack"]
    assert check.status == WARN and "the version before it serves" in check.detail


def test_a_test_alarm_slack_will_not_let_it_read_is_a_failed_check_and_is_closed(
    world: World, slack_url: str, slack: FakeSlack
) -> None:
    unsubscribe_the_function(world)
    slack.refuse["conversations.history"] = "not_in_channel"
    sqs = world.aws.client("sqs")
    queue = sqs.create_queue(QueueName="published")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    world.aws.client("sns").subscribe(
        TopicArn=world.topic, Protocol="sqs", Endpoint=arn["QueueArn"]
    )
    found = doctor(world, slack_url, clock=ticking())
    list(found.checks())
    check = found.test_alarm(timeout_s=5)
    assert check.status == FAIL and "not_in_channel" in check.detail
    sent = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    states = sorted(json.loads(json.loads(m["Body"])["Message"])["NewStateValue"] for m in sent)
    assert states == ["ALARM", "OK"]  # what it opened, it closed


def test_the_deployed_runbooks_are_named(world: World, slack_url: str, bot_env: Container) -> None:
    from dataclasses import replace
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "devtools" / "fleet" / "runbooks.json"
    bot_env.settings = replace(bot_env.settings, runbooks_file=demo)
    check = run(world, slack_url)["runbooks"]
    assert check.status == OK and check.detail == "1: bad-deploy"
