"""`shepherd deploy`: the packaged template into a CloudFormation stack, created or updated
through a change set, with what the user needs next printed at the end.

One path, the one CloudFormation users know: the code and the template go to a deployment bucket
(created if absent, private, owned by the account), a change set is created with the stack's
parameters (operators, channel, member accounts, reservations fitted to the account's quota),
shown, executed and waited for. A change set that fails says CloudFormation's reason; a stack
that fails says the first resource that failed and why.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib.errors import BadInput, ShepherdError
from deploy import quota
from deploy.clients import Clients
from deploy.template import Template

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
SLACK_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
BUSY = ("_IN_PROGRESS",)
POLL_S = 5.0
# States CloudFormation accepts no change set in, and what gets a stack out of each.
STUCK = {
    "UPDATE_ROLLBACK_FAILED": (
        "its rollback failed, and CloudFormation takes no change until it is finished: "
        "`aws cloudformation continue-update-rollback --stack-name {name}` (with "
        "--resources-to-skip for what it names), then deploy again"
    ),
    "DELETE_FAILED": (
        "a delete failed: delete it again, retaining the resources it names (CloudFormation "
        "console → Delete), then deploy again"
    ),
}


class DeployFailed(ShepherdError):
    """CloudFormation or S3 refused the deploy; the message says why."""


def stack_name(stage: str) -> str:
    return f"shepherd-{stage}"


@dataclass(frozen=True)
class Request:
    stage: str = "prod"
    package: Path = Path("build/package")
    operators: str | None = None  # None: keep the stack's (update) or refuse (create)
    channel: str | None = None
    members: tuple[str, ...] | None = None  # None: the accounts file's, or the stack's
    bucket: str | None = None


@dataclass
class Deployed:
    stack: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    changed: bool = True

    @property
    def request_url(self) -> str:
        return self.outputs.get("EndpointURL", "").rstrip("/") + "/slack/events"


class Deployer(Clients):
    def __init__(
        self,
        session: boto3.Session,
        out: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        clients: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(session, clients)
        self.out, self.sleep = out, sleep

    def deploy(self, request: Request) -> Deployed:
        template = Template.load(request.package / "sam.json")
        code = request.package / "deployment.zip"
        name = stack_name(request.stage)
        _same_stage(template, request.stage)
        account = self.account
        self.out(f"Deploying Shepherd (stack {name}) to account {account}, {self.region}")
        existing = self._existing(name)
        parameters = self._parameters(template, request, existing)
        bucket = request.bucket or f"shepherd-deploy-{account}-{self.region}"
        self._bucket(bucket, account)
        code_key = self._upload(bucket, account, f"{request.stage}/code", code.read_bytes(), "zip")
        body = json.dumps(template.with_code(bucket, code_key), sort_keys=True).encode()
        template_key = self._upload(bucket, account, f"{request.stage}/template", body, "json")
        url = f"https://{bucket}.s3.{self.region}.amazonaws.com/{template_key}"
        changed = self._change(name, url, parameters, existing is not None)
        stack = self._describe(name)
        if stack is None:  # a change set that created nothing: nothing to show
            raise DeployFailed(f"stack {name} is not there after its change set")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return Deployed(name, stack["StackStatus"], outputs, changed)

    # -- the stack as it is -----------------------------------------------------------------

    def _describe(self, name: str) -> dict[str, Any] | None:
        try:
            [stack] = self.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return dict(stack)

    def _existing(self, name: str) -> dict[str, Any] | None:
        stack = self._describe(name)
        if stack is None:
            return None
        status = stack["StackStatus"]
        if status == "REVIEW_IN_PROGRESS":
            # A first change set that failed leaves an empty stack under review: created anew.
            return None
        if status.endswith(BUSY):
            raise DeployFailed(
                f"stack {name} is {status}: another deploy or rollback is running; "
                "run this again when it has finished"
            )
        if status in STUCK:
            raise DeployFailed(f"stack {name} is {status}: {STUCK[status].format(name=name)}")
        if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
            # A first create that failed: the stack holds nothing and cannot be updated.
            self.out(f"  stack     {name} is {status} from a failed first deploy; deleting it")
            cf = self.client("cloudformation")
            cf.delete_stack(StackName=name)
            self._wait_stack(name, since=datetime.now(UTC), deleting=True)
            return None
        return stack

    # -- parameters ---------------------------------------------------------------------------

    def _parameters(
        self, template: Template, request: Request, existing: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        previous = {
            p["ParameterKey"]: p.get("ParameterValue", "")
            for p in (existing or {}).get("Parameters", [])
        }
        given: dict[str, str] = {}
        operators = request.operators
        if operators is None and "Operators" in previous:
            operators = previous["Operators"]
            given_operators = False
        else:
            given_operators = True
        _check_operators(operators)
        if given_operators:
            given["Operators"] = str(operators)
        if request.channel is not None:
            if not request.channel.strip():
                raise BadInput("--channel is empty: name the alarm channel (#name or C… id)")
            given["Channel"] = request.channel.strip()
        members = request.members
        if members is None and "MemberAccountIds" not in previous:
            members = _configured_members()
        if members is not None:
            bad = [m for m in members if not ACCOUNT_ID.match(m)]
            if bad:
                raise BadInput(f"member account ids are 12 digits: {', '.join(bad)}")
            given["MemberAccountIds"] = ",".join(members)
        reservations = template.reservations()
        fitted = quota.fit(
            {f: n for f, (_, n) in reservations.items()},
            quota.read_quota(self.client("lambda"), reservations),
        )
        self.out(f"  reserved  {fitted.said()}")
        for function, executions in fitted.reservations.items():
            given[reservations[function][0]] = str(executions)
        out: list[dict[str, Any]] = []
        for key in template.parameters:
            if key in given:
                out.append({"ParameterKey": key, "ParameterValue": given[key]})
            elif key in previous:
                out.append({"ParameterKey": key, "UsePreviousValue": True})
        return out

    # -- code and template --------------------------------------------------------------------

    def _bucket(self, bucket: str, account: str) -> None:
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in ("403", "AccessDenied", "Forbidden"):
                raise DeployFailed(
                    f"bucket {bucket} belongs to another account or is not readable: "
                    "name one of yours with --bucket"
                ) from exc
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise
        else:
            located = s3.get_bucket_location(Bucket=bucket, ExpectedBucketOwner=account)
            region = located.get("LocationConstraint") or "us-east-1"
            if region != self.region:
                raise DeployFailed(
                    f"bucket {bucket} is in {region}, the stack in {self.region}: Lambda takes "
                    "code only from a bucket in its own region; name one there with --bucket"
                )
            return
        where = (
            {}
            if self.region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        )
        s3.create_bucket(Bucket=bucket, **where)
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self.out(f"  bucket    {bucket} (created, private)")

    def _upload(self, bucket: str, account: str, prefix: str, body: bytes, ext: str) -> str:
        """Content-addressed: the same package uploads once, whatever the number of deploys."""
        key = f"shepherd/{prefix}-{hashlib.sha256(body).hexdigest()[:20]}.{ext}"
        s3 = self.client("s3")
        try:
            s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=account)
            self.out(f"  upload    s3://{bucket}/{key} (already there)")
        except ClientError:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ExpectedBucketOwner=account)
            self.out(f"  upload    s3://{bucket}/{key} ({len(body) / 1e6:.2f} MB)")
        return key

    # -- change set ---------------------------------------------------------------------------

    def _change(self, name: str, url: str, parameters: list[dict[str, Any]], update: bool) -> bool:
        cf = self.client("cloudformation")
        change_set = f"shepherd-{datetime.now(UTC):%Y%m%dT%H%M%S}"
        kind = "UPDATE" if update else "CREATE"
        cf.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType=kind,
            TemplateURL=url,
            Parameters=parameters,
            Capabilities=CAPABILITIES,
            Tags=[{"Key": "shepherd:stack", "Value": name}],
            Description="shepherd deploy",
        )
        described = self._wait_change_set(name, change_set)
        if described["Status"] == "FAILED":
            reason = str(described.get("StatusReason", ""))
            cf.delete_change_set(StackName=name, ChangeSetName=change_set)
            if any(phrase in reason for phrase in NO_CHANGES):
                self.out(f"  stack     {name} is up to date: nothing to change")
                return False
            raise DeployFailed(f"change set {change_set} failed: {reason}")
        self.out(f"  change    {change_set} ({kind}): {_summary(described.get('Changes', []))}")
        since = datetime.now(UTC)
        cf.execute_change_set(StackName=name, ChangeSetName=change_set)
        self._wait_stack(name, since=since)
        return True

    def _wait_change_set(self, name: str, change_set: str) -> dict[str, Any]:
        cf = self.client("cloudformation")
        while True:
            described = dict(cf.describe_change_set(StackName=name, ChangeSetName=change_set))
            if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
                if described["Status"] == "CREATE_COMPLETE":
                    described["Changes"] = _all_changes(cf, name, change_set, described)
                return described
            self.sleep(POLL_S)

    def _wait_stack(self, name: str, *, since: datetime, deleting: bool = False) -> None:
        cf = self.client("cloudformation")
        seen: set[str] = set()
        while True:
            events = _events_since(cf, name, since)
            for event in events:
                if event["EventId"] not in seen:
                    seen.add(event["EventId"])
                    self.out(f"  stack     {_event_line(event)}")
            stack = self._describe(name)
            if stack is None:
                if deleting:
                    return
                raise DeployFailed(f"stack {name} disappeared while it was being deployed")
            status = stack["StackStatus"]
            if status.endswith(BUSY):
                self.sleep(POLL_S)
                continue
            if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE") or (
                deleting and status == "DELETE_COMPLETE"
            ):
                return
            raise DeployFailed(_failure(name, status, events))


def _same_stage(template: Template, stage: str) -> None:
    prefix = f"shepherd-{stage}-"
    names = sorted(template.functions.values())
    if not names or not all(n.startswith(prefix) for n in names):
        raise BadInput(
            f"the package deploys {names[0] if names else 'no function'}…, not stage {stage}: "
            "`.chalice/resources.json` names the functions `shepherd-prod-*` "
            "(one Shepherd per account and region); deploy --stage prod"
        )


def _check_operators(operators: str | None) -> None:
    ids = [i.strip() for i in (operators or "").split(",") if i.strip()]
    if not ids:
        raise BadInput(
            "no operators: every change from /ops would be refused. Name who may make changes "
            "with OPERATORS=U0123ABC,S0456DEF (Slack user ids, or user group ids for a rota; "
            "a profile's ⋮ menu → Copy member ID)"
        )
    bad = [i for i in ids if not SLACK_ID.match(i)]
    if bad:
        raise BadInput(
            f"operators are Slack user ids (U…/W…) or user group ids (S…), not {', '.join(bad)}"
        )


def _configured_members() -> tuple[str, ...]:
    from chalicelib.accounts import load_accounts

    return tuple(a.id for a in load_accounts().members)


def _all_changes(cf: Any, name: str, change_set: str, first: Mapping[str, Any]) -> list[Any]:
    changes = list(first.get("Changes", []))
    token = first.get("NextToken")
    while token:
        page = cf.describe_change_set(StackName=name, ChangeSetName=change_set, NextToken=token)
        changes += page.get("Changes", [])
        token = page.get("NextToken")
    return changes


def _summary(changes: list[Any]) -> str:
    counts: dict[str, int] = {}
    for change in changes:
        action = change.get("ResourceChange", {}).get("Action", "Modify")
        counts[action] = counts.get(action, 0) + 1
    words = {"Add": "to add", "Modify": "to modify", "Remove": "to remove"}
    return ", ".join(f"{n} {words.get(a, a.lower())}" for a, n in sorted(counts.items())) or (
        "no resource changes"
    )


def _events_since(cf: Any, name: str, since: datetime) -> list[dict[str, Any]]:
    """The stack's events from `since`, oldest first (the API pages them newest first)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StackName": name}
    while True:
        try:
            page = cf.describe_stack_events(**kwargs)
        except ClientError as exc:
            if "does not exist" in str(exc):
                return found[::-1]
            raise
        for event in page["StackEvents"]:
            if event["Timestamp"] < since:
                return found[::-1]
            found.append(event)
        if not page.get("NextToken"):
            return found[::-1]
        kwargs["NextToken"] = page["NextToken"]


def _event_line(event: Mapping[str, Any]) -> str:
    reason = event.get("ResourceStatusReason")
    return f"{event['ResourceStatus']:<20} {event['LogicalResourceId']}" + (
        f": {reason}" if reason and "FAILED" in event["ResourceStatus"] else ""
    )


def _failure(name: str, status: str, events: list[dict[str, Any]]) -> str:
    failed = [
        e
        for e in events
        if e["ResourceStatus"].endswith("FAILED")
        and e.get("ResourceStatusReason")
        and "cancelled" not in e["ResourceStatusReason"].lower()
        and e["LogicalResourceId"] != name
    ]
    cause = (
        f"{failed[0]['LogicalResourceId']} ({failed[0].get('ResourceType', '')}): "
        f"{failed[0]['ResourceStatusReason']}"
        if failed
        else "no resource said why (see the stack's events in the CloudFormation console)"
    )
    then = {
        "ROLLBACK_COMPLETE": " The stack rolled back; the next deploy deletes it and starts again.",
        "ROLLBACK_FAILED": " The stack rolled back; the next deploy deletes it and starts again.",
        "UPDATE_ROLLBACK_COMPLETE": " The stack rolled back to what it was, which still serves.",
    }.get(status, f" {STUCK[status].format(name=name)}." if status in STUCK else "")
    return f"stack {name} is {status}: {cause}.{then}"
