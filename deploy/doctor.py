"""`shepherd doctor`: a deployed Shepherd checked from the outside, one line per check, with what
to do about each that fails.

Each check reads what a user would otherwise learn from an alarm that never arrives: the stack and
its functions, the Slack secrets, the token and its scopes, the endpoint Slack calls (a signed
`url_verification`, the request Slack itself sends first), the bot in the alarm channel, the alarm
topic's subscription and the EventBridge rule, alarms that reach Shepherd by neither, and what only
the deployed runtime can tell (`chalicelib/probe.py`): member accounts assumable, mute rules
available. `--test-alarm` sends a synthetic alarm through the deployed topic and waits for its
message in the channel.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from deploy import slack_app
from deploy.clients import Clients
from deploy.stack import stack_name

OK, WARN, FAIL = "ok", "warn", "FAIL"
MARKS = {OK: "✓", WARN: "!", FAIL: "✗"}
SHOWN_ALARMS = 8


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f"\n      → {self.fix}" if self.fix and self.status != OK else ""
        return f"  {MARKS[self.status]} {self.name:<16} {self.detail}{fix}"


@dataclass
class Deployment:
    """What the stack says Shepherd is made of."""

    stack: dict[str, Any]
    resources: dict[str, tuple[str, str]] = field(default_factory=dict)  # logical → (type, id)

    @property
    def outputs(self) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self.stack.get("Outputs", [])}

    @property
    def parameters(self) -> dict[str, str]:
        return {
            p["ParameterKey"]: p.get("ParameterValue", "") for p in self.stack.get("Parameters", [])
        }

    def physical(self, logical: str) -> str | None:
        found = self.resources.get(logical)
        return found[1] if found else None

    def of_type(self, kind: str) -> dict[str, str]:
        return {lid: pid for lid, (t, pid) in self.resources.items() if t == kind}

    @property
    def request_url(self) -> str:
        return self.outputs.get("EndpointURL", "").rstrip("/") + "/slack/events"


class Doctor(Clients):
    def __init__(
        self,
        session: boto3.Session,
        stage: str = "prod",
        *,
        slack_api_url: str | None = None,
        clients: Mapping[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(session, clients)
        self.stage = stage
        self.slack_api_url = slack_api_url
        self.sleep, self.clock = sleep, clock
        self.deployment: Deployment | None = None
        self.functions: dict[str, dict[str, Any]] = {}  # deployed name → configuration
        self.slack: Any = None
        self.signing_secret: str | None = None
        self.rule_enabled = False

    def checks(self) -> Iterator[Check]:
        """Every check, in the order a failure in one explains the next."""
        steps: list[Callable[[], Check | list[Check]]] = [
            self.check_stack,
            self.check_functions,
            self.check_secrets,
            self.check_token,
            self.check_endpoint,
            self.check_channel,
            self.check_topic,
            self.check_rule,
            self.check_alarms,
            self.check_runtime,
        ]
        for step in steps:
            try:
                found = step()
            except ClientError as exc:
                found = Check(_step_name(step), FAIL, f"AWS refused: {exc}", _permissions())
            except NoCredentialsError as exc:
                found = Check(
                    _step_name(step),
                    FAIL,
                    f"no AWS credentials: {exc}",
                    "set AWS_PROFILE (or run `aws configure`) for the account Shepherd is in",
                )
            except BotoCoreError as exc:
                found = Check(
                    _step_name(step),
                    FAIL,
                    f"AWS could not be reached: {exc}",
                    "check the network and AWS_REGION (the region Shepherd was deployed to)",
                )
            except Exception as exc:  # Slack out of reach, a timeout: said, and the rest checked
                found = Check(
                    _step_name(step), FAIL, f"{type(exc).__name__}: {exc}", "check the network"
                )
            yield from found if isinstance(found, list) else [found]

    # -- the stack ----------------------------------------------------------------------------

    def check_stack(self) -> Check:
        name = stack_name(self.stage)
        cf = self.client("cloudformation")
        try:
            [stack] = cf.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if "does not exist" not in str(exc):
                raise
            return Check("stack", FAIL, f"no stack {name} in {self.region}", "make deploy")
        status = stack["StackStatus"]
        resources: dict[str, tuple[str, str]] = {}
        for page in cf.get_paginator("list_stack_resources").paginate(StackName=name):
            for r in page["StackResourceSummaries"]:
                resources[r["LogicalResourceId"]] = (
                    r["ResourceType"],
                    r.get("PhysicalResourceId", ""),
                )
        self.deployment = Deployment(dict(stack), resources)
        if status == "UPDATE_ROLLBACK_COMPLETE":
            return Check(
                "stack",
                WARN,
                f"{name}: the last update rolled back; the version before it serves",
                "make deploy (it shows CloudFormation's reason if it fails again)",
            )
        if status == "REVIEW_IN_PROGRESS":
            return Check(
                "stack",
                FAIL,
                f"{name} was never created: its first change set failed",
                "make deploy (it shows CloudFormation's reason)",
            )
        if status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            return Check(
                "stack",
                FAIL,
                f"{name} is {status}",
                "wait for it to finish"
                if status.endswith("_IN_PROGRESS")
                else "make deploy (it shows CloudFormation's reason if it fails again)",
            )
        return Check("stack", OK, f"{name} {status}, {len(resources)} resources")

    def check_functions(self) -> Check:
        if self.deployment is None:
            return _skipped("functions", "no stack")
        names = sorted(self.deployment.of_type("AWS::Lambda::Function").values())
        if not names:
            return Check("functions", FAIL, "the stack has no function", "make deploy")
        broken = []
        for name in names:
            try:
                config = self.client("lambda").get_function(FunctionName=name)["Configuration"]
            except ClientError as exc:
                broken.append(f"{name}: {_code(exc)}")
                continue
            self.functions[name] = config
            state, update = config.get("State", "Active"), config.get("LastUpdateStatus")
            if state != "Active" or update == "Failed":
                reason = config.get("StateReason") or config.get("LastUpdateStatusReason") or ""
                broken.append(f"{name}: {state}{'/' + update if update else ''} {reason}".strip())
        if broken:
            return Check("functions", FAIL, "; ".join(broken), "make deploy")
        return Check("functions", OK, f"{len(names)} active ({', '.join(names)})")

    # -- Slack --------------------------------------------------------------------------------

    def check_secrets(self) -> Check:
        secrets = slack_app.Secrets.of_stage(self.stage)
        values = secrets.read(self.client("ssm"))
        missing = [n for n in secrets.names if n not in values]
        if missing:
            return Check(
                "secrets",
                FAIL,
                f"missing in SSM: {', '.join(missing)}",
                f"shepherd secrets set --stage {self.stage}",
            )
        token = values[secrets.token_param]
        self.signing_secret = values[secrets.signing_secret_param]
        self.slack = slack_app.web_client(token, self.slack_api_url)
        return Check("secrets", OK, f"{', '.join(secrets.names)} in SSM")

    def check_token(self) -> Check:
        if self.slack is None:
            return _skipped("slack token", "no token")
        from slack_sdk.errors import SlackApiError

        try:
            answer = self.slack.auth_test()
        except SlackApiError as exc:
            error = exc.response.get("error", "refused")
            return Check(
                "slack token",
                FAIL,
                f"auth.test: {error}",
                "copy the Bot User OAuth Token (OAuth & Permissions) and run "
                f"`shepherd secrets set --stage {self.stage}`",
            )
        headers = {k.lower(): v for k, v in (answer.headers or {}).items()}
        granted = _header(headers.get("x-oauth-scopes"))
        wanted = slack_app.scopes()
        missing = [s for s in wanted if s not in granted]
        who = f"bot {answer.get('user_id')} in {answer.get('team') or answer.get('team_id')}"
        if missing:
            return Check(
                "slack token",
                FAIL,
                f"{who} lacks scopes {', '.join(missing)}",
                "update the app from slack-app-manifest.yml (App Manifest), then Install App → "
                "Reinstall to Workspace",
            )
        return Check("slack token", OK, f"{who}, {len(wanted)} scopes the manifest asks for")

    def check_endpoint(self) -> Check:
        if self.deployment is None or self.signing_secret is None:
            return _skipped("endpoint", "no stack or no signing secret")
        url = self.deployment.request_url
        challenge = hashlib.sha256(str(time.time()).encode()).hexdigest()[:24]
        body = json.dumps({"type": "url_verification", "token": "-", "challenge": challenge})
        stamp = str(int(time.time()))
        signature = hmac.new(
            self.signing_secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256
        ).hexdigest()
        request = urllib.request.Request(  # noqa: S310 - the deployed API's https URL
            url,
            data=body.encode(),
            headers={
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": f"v0={signature}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                answered = response.read().decode("utf-8", "replace")
                status = response.status
        except urllib.error.HTTPError as exc:
            status, answered = exc.code, exc.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as exc:
            return Check("endpoint", FAIL, f"{url} unreachable: {exc}", "make deploy")
        if status in (401, 403):
            return Check(
                "endpoint",
                FAIL,
                f"{url} refused a request signed with the signing secret in SSM ({status})",
                "store the app's Signing Secret (Basic Information) with "
                f"`shepherd secrets set --stage {self.stage}`",
            )
        if status != 200 or challenge not in answered:
            return Check(
                "endpoint",
                FAIL,
                f"{url} answered {status}: {answered[:120]}",
                "read the API function's logs: aws logs tail "
                f"/aws/lambda/shepherd-{self.stage}-api_handler --since 15m",
            )
        return Check("endpoint", OK, f"{url} answers Slack's signed url_verification")

    def check_channel(self) -> Check:
        if self.slack is None or self.deployment is None:
            return _skipped("alarm channel", "no token or no stack")
        from slack_sdk.errors import SlackApiError

        wanted = self.deployment.parameters.get("Channel") or "#ops-alarms"
        try:
            channel = self._channel(wanted)
        except SlackApiError as exc:
            return Check(
                "alarm channel",
                FAIL,
                f"{wanted}: {exc.response.get('error')}",
                "check the channel name and the channels:read/groups:read scopes",
            )
        if channel is None:
            return Check(
                "alarm channel",
                FAIL,
                f"no channel {wanted} the bot can see",
                "create it, or for a private one invite the bot: /invite @shepherd; or "
                "make deploy CHANNEL=#another",
            )
        if not channel.get("is_member"):
            return Check(
                "alarm channel",
                FAIL,
                f"{wanted} ({channel['id']}): the bot is not a member",
                f"/invite @shepherd in {wanted} (it reads the channel to avoid double posts)",
            )
        return Check("alarm channel", OK, f"{wanted} ({channel['id']}), bot is a member")

    def _channel(self, wanted: str) -> dict[str, Any] | None:
        if wanted[:1] in ("C", "G") and not wanted.startswith("#"):
            return dict(self.slack.conversations_info(channel=wanted)["channel"])
        name = wanted.lstrip("#")
        cursor = None
        while True:
            page = self.slack.conversations_list(
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            for channel in page.get("channels", []):
                if channel.get("name") == name:
                    return dict(channel)
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    # -- how alarms reach Shepherd ----------------------------------------------------------

    def _function(self, suffix: str) -> dict[str, Any] | None:
        return self.functions.get(f"shepherd-{self.stage}-{suffix}")

    def check_topic(self) -> Check:
        topic = self.deployment.physical("AlarmTopic") if self.deployment else None
        on_alarm = self._function("on_alarm")
        if not topic or on_alarm is None:
            return _skipped("alarm topic", "no stack")
        subscriptions = []
        for page in (
            self.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic)
        ):
            subscriptions += page["Subscriptions"]
        if not any(
            s["Protocol"] == "lambda" and s["Endpoint"] == on_alarm["FunctionArn"]
            for s in subscriptions
        ):
            return Check(
                "alarm topic",
                FAIL,
                f"{topic} has no subscription for {on_alarm['FunctionName']}",
                "make deploy (the stack subscribes it)",
            )
        return Check("alarm topic", OK, f"{topic} → {on_alarm['FunctionName']}")

    def check_rule(self) -> Check:
        if self.deployment is None:
            return _skipped("eventbridge rule", "no stack")
        rules = self.deployment.of_type("AWS::Events::Rule")
        on_event = self._function("on_alarm_event")
        if not rules or on_event is None:
            return Check(
                "eventbridge rule",
                FAIL,
                "the stack has no alarm state change rule",
                "make deploy",
            )
        events = self.client("events")
        for rule in rules.values():
            described = events.describe_rule(Name=rule.split("|")[-1])
            targets = events.list_targets_by_rule(Rule=described["Name"])["Targets"]
            if not any(t["Arn"] == on_event["FunctionArn"] for t in targets):
                continue
            if described.get("State") != "ENABLED":
                return Check(
                    "eventbridge rule",
                    FAIL,
                    f"{described['Name']} is {described.get('State')}",
                    f"aws events enable-rule --name {described['Name']}",
                )
            self.rule_enabled = True
            return Check(
                "eventbridge rule",
                OK,
                f"{described['Name']} enabled → {on_event['FunctionName']}",
            )
        return Check(
            "eventbridge rule",
            FAIL,
            f"no rule targets {on_event['FunctionName']}",
            "make deploy",
        )

    def check_alarms(self) -> Check:
        if self.deployment is None:
            return _skipped("alarms", "no stack")
        topic = self.deployment.physical("AlarmTopic") or ""
        action = self._function("on_alarm_action")
        heard = {topic, (action or {}).get("FunctionArn", "")} - {""}
        alarms: list[tuple[str, list[str]]] = []
        for page in (
            self.client("cloudwatch")
            .get_paginator("describe_alarms")
            .paginate(AlarmTypes=["MetricAlarm", "CompositeAlarm"])
        ):
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                actions = [*alarm.get("AlarmActions", []), *alarm.get("OKActions", [])]
                alarms.append((alarm["AlarmName"], actions))
        if not alarms:
            return Check(
                "alarms",
                WARN,
                f"no CloudWatch alarm in {self.region}: nothing to diagnose yet",
                "alarm on Errors/Invocations, Throttles, Duration, IteratorAge, "
                "DeadLetterErrors (README: How it works)",
            )
        direct = sum(1 for _, actions in alarms if heard & set(actions))
        if self.rule_enabled:
            return Check(
                "alarms",
                OK,
                f"{len(alarms)} alarm(s) reach Shepherd through the EventBridge rule"
                + (f"; {direct} also notify its topic or function" if direct else ""),
            )
        unheard = [name for name, actions in alarms if not heard & set(actions)]
        if not unheard:
            return Check("alarms", OK, f"all {len(alarms)} alarm(s) notify Shepherd directly")
        shown = ", ".join(unheard[:SHOWN_ALARMS]) + (
            f" and {len(unheard) - SHOWN_ALARMS} more" if len(unheard) > SHOWN_ALARMS else ""
        )
        return Check(
            "alarms",
            FAIL,
            f"{len(unheard)} of {len(alarms)} alarm(s) point nowhere Shepherd listens: {shown}",
            f"enable the EventBridge rule, or add {topic} to their alarm actions",
        )

    # -- what only the deployed runtime knows ----------------------------------------------

    def check_runtime(self) -> list[Check]:
        action = self._function("on_alarm_action")
        if action is None:
            return [_skipped("runtime", "no on_alarm_action function")]
        answer = self.client("lambda").invoke(
            FunctionName=action["FunctionName"],
            Payload=json.dumps({"shepherd-doctor": "probe"}).encode(),
        )
        payload = answer["Payload"].read().decode("utf-8", "replace")
        if answer.get("FunctionError"):
            return [
                Check(
                    "runtime",
                    FAIL,
                    f"{action['FunctionName']} failed the probe: {payload[:300]}",
                    f"aws logs tail /aws/lambda/{action['FunctionName']} --since 15m",
                )
            ]
        probe = json.loads(payload)
        checks = []
        if probe.get("mute_rules"):
            checks.append(
                Check("mute rules", OK, f"runtime botocore {probe.get('botocore')} makes them")
            )
        else:
            checks.append(
                Check(
                    "mute rules",
                    FAIL,
                    f"runtime botocore {probe.get('botocore')} has no alarm mute rules: "
                    "Snooze is refused",
                    "wait for the Lambda runtime's boto3 to reach botocore 1.40, or add a "
                    "boto3 layer to the functions",
                )
            )
        if not probe.get("operators"):
            checks.append(
                Check(
                    "operators",
                    FAIL,
                    "none: every change from /ops is refused",
                    "make deploy OPERATORS=U0123ABC,S0456DEF",
                )
            )
        else:
            checks.append(Check("operators", OK, f"{probe['operators']} user(s) or group(s)"))
        runbooks = probe.get("runbooks") or []
        checks.append(
            Check(
                "runbooks",
                OK,
                f"{len(runbooks)}: {', '.join(runbooks)}"
                if runbooks
                else "none configured (policies/runbooks.json)",
            )
        )
        accounts = probe.get("accounts") or {}
        names = probe.get("names") or {}
        if not accounts:
            checks.append(Check("member accounts", OK, "none configured (policies/accounts.json)"))
        for account, outcome in sorted(accounts.items()):
            label = f"account {names.get(account, account)}"
            if outcome == "ok":
                checks.append(Check(label, OK, f"{account}: shepherd-member assumed"))
            else:
                checks.append(
                    Check(
                        label,
                        FAIL,
                        f"{account}: {outcome}",
                        f"deploy deploy/member-account.yaml in {account} with "
                        f"ShepherdAccountId={self.account} and the external id that "
                        "policies/accounts.json gives it (README: Many accounts)",
                    )
                )
        return checks

    # -- a synthetic alarm, end to end -------------------------------------------------------

    def test_alarm(self, timeout_s: float = 120.0) -> Check:
        try:
            return self._test_alarm(timeout_s)
        except ClientError as exc:
            return Check("test alarm", FAIL, f"AWS refused: {exc}", _permissions())
        except Exception as exc:  # Slack refused reading the channel, or is out of reach
            return Check(
                "test alarm",
                FAIL,
                f"{type(exc).__name__}: {exc}",
                "the bot must be in the channel with channels:history (groups:history if private)",
            )

    def _test_alarm(self, timeout_s: float) -> Check:
        if self.deployment is None or self.slack is None:
            return _skipped("test alarm", "no stack or no Slack token")
        topic = self.deployment.physical("AlarmTopic")
        if not topic:
            return _skipped("test alarm", "no alarm topic")
        wanted = self.deployment.parameters.get("Channel") or "#ops-alarms"
        channel = self._channel(wanted)
        if channel is None:
            return Check("test alarm", FAIL, f"no channel {wanted} to look in", "see alarm channel")
        name = f"shepherd-doctor-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        started = time.time()
        sns = self.client("sns")
        sns.publish(
            TopicArn=topic,
            Subject=f'ALARM: "{name}"',
            Message=json.dumps(self.synthetic_alarm(name, "ALARM")),
        )
        deadline = self.clock() + timeout_s
        found = None
        try:
            while found is None and self.clock() < deadline:
                history = self.slack.conversations_history(
                    channel=channel["id"], oldest=f"{started - 5:.6f}", limit=100
                )
                found = next((m for m in history["messages"] if name in m.get("text", "")), None)
                if found is None:
                    self.sleep(3)
        finally:
            sns.publish(  # close it, whatever happened: no reminders about a test
                TopicArn=topic,
                Subject=f'OK: "{name}"',
                Message=json.dumps(self.synthetic_alarm(name, "OK")),
            )
        if found is None:
            return Check(
                "test alarm",
                FAIL,
                f"{name} sent to {topic}; no message in the channel after {timeout_s:.0f} s",
                f"aws logs tail /aws/lambda/shepherd-{self.stage}-on_alarm --since 15m",
            )
        return Check(
            "test alarm",
            OK,
            f"{name} posted in {channel['id'] if channel else '?'} "
            f"after {time.time() - started:.0f} s",
        )

    def synthetic_alarm(self, name: str, state: str) -> dict[str, Any]:
        """A CloudWatch alarm notification as SNS carries it, on Shepherd's own reminders
        function (a resource that exists, so the diagnosis reads real evidence)."""
        from chalicelib.aws.regions import region_name

        function = f"shepherd-{self.stage}-alarm_reminders"
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
        return {
            "AlarmName": name,
            "AlarmDescription": "Synthetic alarm from `shepherd doctor --test-alarm`",
            "AWSAccountId": self.account,
            "AlarmArn": f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{name}",
            "NewStateValue": state,
            "NewStateReason": "Sent by shepherd doctor --test-alarm to test the alarm path.",
            "StateChangeTime": now,
            "Region": region_name(self.region),
            "OldStateValue": "OK" if state == "ALARM" else "ALARM",
            "Trigger": {
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "StatisticType": "Statistic",
                "Statistic": "SUM",
                "Dimensions": [{"value": function, "name": "FunctionName"}],
                "Period": 60,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "Threshold": 1.0,
                "TreatMissingData": "notBreaching",
            },
        }


def _skipped(name: str, why: str) -> Check:
    return Check(name, WARN, f"not checked: {why}")


def _step_name(step: Callable[..., Any]) -> str:
    return getattr(step, "__name__", "check").removeprefix("check_").replace("_", " ")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "error"))


def _header(value: str | None) -> set[str]:
    return {s.strip() for s in (value or "").split(",") if s.strip()}


def _permissions() -> str:
    return (
        "run the doctor with credentials that may read the stack and its resources, decrypt the "
        "two SSM parameters, invoke shepherd-<stage>-on_alarm_action and, for --test-alarm, "
        "publish to the alarm topic (ReadOnlyAccess alone does not invoke or publish)"
    )
