"""Least privilege, evaluated: the member-account role allows every AWS call Shepherd makes there
with the session it makes it with, and no change without a Slack user; `api_handler` changes its
own account's fleet only, and never Shepherd itself.

The policies are evaluated as IAM does for one principal's own policies (an explicit Deny wins,
then an Allow, else denied), with the condition operators they use; an operator or a policy
variable this evaluator does not know fails the test rather than guess.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice.utils import to_cfn_resource_name

from chalicelib.audit import analyzer
from chalicelib.audit import catalogue as catalogue_module
from chalicelib.aws.assume import slack_identity
from chalicelib.ops.actions.snooze import rule_name

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
MERGED = json.loads((ROOT / ".chalice" / "resources.json").read_text())["Resources"]

HOME, MEMBER, OTHER = "123456789012", "210987654321", "999999999999"
REGION = "eu-west-1"
EXTERNAL_ID = "3f9c2a7e5b1d4c8f"
USER = "U0123ABC"

EVIDENCE = "evidence"  # no user: a diagnosis, a view, a preview, a recheck (container.py)
ACTING = "acting"  # a confirmed change: SourceIdentity slack-<user> (Aws.acting)


# --- IAM, as far as Shepherd's policies use it ----------------------------------------------

Context = dict[str, str]


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _glob(pattern: str, *, case: bool = True) -> re.Pattern[str]:
    assert "${" not in pattern, f"policy variables are not evaluated here: {pattern}"
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), 0 if case else re.IGNORECASE)


def _acts(s: dict[str, Any], action: str) -> bool:
    listed = any(
        _glob(a, case=False).fullmatch(action)
        for a in _strings(s.get("Action", s.get("NotAction")))
    )
    return listed if "Action" in s else not listed


def _reaches(s: dict[str, Any], resource: str) -> bool:
    patterns = _strings(s.get("Resource", s.get("NotResource")))
    listed = any(_glob(p).fullmatch(resource) for p in patterns)
    return listed if "Resource" in s else not listed


def _holds(condition: dict[str, Any], context: Context) -> bool:
    for operator, keys in condition.items():
        for key, wanted in keys.items():
            value = context.get(key)
            if value is None:
                return False
            values = _strings(wanted)
            if operator in ("StringEquals", "ArnEquals"):
                held = value in values
            elif operator in ("StringLike", "ArnLike"):
                held = any(_glob(w).fullmatch(value) for w in values)
            else:
                raise AssertionError(f"condition operator {operator} is not evaluated here")
            if not held:
                return False
    return True


def decide(statements: list[dict[str, Any]], action: str, resource: str, context: Context) -> str:
    """`allow`, `deny` (an explicit Deny) or `implicit` (nothing allows it)."""
    verdict = "implicit"
    for s in statements:
        if not (
            _acts(s, action) and _reaches(s, resource) and _holds(s.get("Condition", {}), context)
        ):
            continue
        if s["Effect"] == "Deny":
            return "deny"
        verdict = "allow"
    return verdict


# --- the templates --------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """CloudFormation YAML: short tags (`!Sub`, `!Ref`, `!GetAtt`…) as their long forms."""


def _short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _short_tag)


def resolve(node: Any, refs: dict[str, str]) -> Any:
    """A template fragment with `Ref` and `Fn::Sub` filled in; any other function fails."""
    if isinstance(node, list):
        return [resolve(n, refs) for n in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        [(key, value)] = node.items()
        if key == "Ref":
            return refs[value]
        if key == "Fn::Sub":
            return re.sub(r"\$\{([^}!]+)\}", lambda m: refs[m.group(1)], value)
        assert not key.startswith("Fn::"), f"{key} is not resolved here"
    return {k: resolve(v, refs) for k, v in node.items()}


MEMBER_TEMPLATE = yaml.load(
    (ROOT / "deploy" / "member-account.yaml").read_text(),
    Loader=CfnLoader,  # noqa: S506 - a SafeLoader that also reads CloudFormation's short tags
)
MEMBER_ROLE = resolve(
    MEMBER_TEMPLATE["Resources"]["ShepherdMemberRole"]["Properties"],
    {
        "AWS::AccountId": MEMBER,
        "AWS::Region": REGION,
        "AWS::Partition": "aws",
        "ShepherdAccountId": HOME,
        "ShepherdStage": "prod",
        "ExternalId": EXTERNAL_ID,
    },
)
MEMBER_STATEMENTS = [
    s for policy in MEMBER_ROLE["Policies"] for s in policy["PolicyDocument"]["Statement"]
]


def session(kind: str) -> Context:
    """The request context of a call made in the member account with this session."""
    context = {"aws:PrincipalAccount": MEMBER}
    if kind == ACTING:
        context["aws:SourceIdentity"] = slack_identity(USER)
    return context


def policy_file(function: str) -> dict[str, Any]:
    """The function's `iam_policy_file`: Chalice makes it its role's policy as it is."""
    relative = CONFIG["lambda_functions"][function]["iam_policy_file"]
    return dict(json.loads((ROOT / ".chalice" / relative).resolve().read_text()))


def merged_policies(function: str, account: str = HOME) -> list[dict[str, Any]]:
    """The role policies .chalice/resources.json attaches to the role Chalice makes for the
    function (`<function>_role`), as CloudFormation resolves them in `account`."""
    role = {"Ref": to_cfn_resource_name(f"{function}_role")}
    refs = {"AWS::AccountId": account, "AWS::Region": REGION, "AWS::Partition": "aws"}
    return [
        resolve(r["Properties"]["PolicyDocument"], refs)
        for r in MERGED.values()
        if r["Type"] == "AWS::IAM::RolePolicy" and r["Properties"]["RoleName"] == role
    ]


def packaged(function: str) -> list[dict[str, Any]]:
    """Every statement of the function's role in the package (`make package`), at home."""
    documents = [policy_file(function), *merged_policies(function)]
    return [s for document in documents for s in document["Statement"]]


API_HANDLER = packaged("api_handler")
# As Chalice names them, app-stage-function (tests/unit/test_deployment.py checks the package).
OWN_FUNCTIONS = [f"{CONFIG['app_name']}-prod-{f}" for f in CONFIG["lambda_functions"]]
KNOWN = catalogue_module.load()


def writes(action: str) -> bool:
    """Write, permissions or tagging, and not a read by name (catalogue.py)."""
    name = action.split(":", 1)[1]
    return KNOWN.levels.get(action, "W") in "WPT" and not catalogue_module.READS.match(name)


# --- what Shepherd calls -------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    sessions: frozenset[str]
    needs: tuple[tuple[str, str], ...]  # (IAM action, resource in the account: see `arn`)


def call(sessions: frozenset[str], *needs: tuple[str, str]) -> Call:
    return Call(sessions, needs)


E, A = frozenset({EVIDENCE}), frozenset({ACTING})
EA = E | A
FN, LIVE = "lambda:function:image-resizer", "lambda:function:image-resizer:live"
DLQ, JOBS = "sqs:image-resizer-dlq", "sqs:image-resizer-jobs"
ALARM = "cloudwatch:alarm:image-resizer-errors"
RULE = f"cloudwatch:alarm-mute-rule:{rule_name('image-resizer-errors')}"
LOGS = "logs:log-group:/aws/lambda/image-resizer"
ANY = "*"

# Every call the AWS facades in chalicelib/aws/ make, the IAM actions it needs on what (AWS's
# Service Authorization Reference, unless said), and the sessions Shepherd makes it with in a
# member account. Views, previews and rechecks read with the evidence session; only `execute`
# and a move's cancel run in the acting one (chalicelib/ops/lifecycle.py).
CALLS: dict[str, Call] = {
    "lambda.get_function_configuration": call(E, ("lambda:GetFunctionConfiguration", FN)),
    "lambda.update_function_configuration": call(A, ("lambda:UpdateFunctionConfiguration", FN)),
    "lambda.get_alias": call(E, ("lambda:GetAlias", FN)),
    "lambda.list_tags": call(E, ("lambda:ListTags", FN)),  # a `runbook` tag
    "lambda.list_aliases": call(E, ("lambda:ListAliases", FN)),
    "lambda.update_alias": call(A, ("lambda:UpdateAlias", FN)),
    "lambda.list_versions_by_function": call(E, ("lambda:ListVersionsByFunction", FN)),
    "lambda.get_function_concurrency": call(E, ("lambda:GetFunctionConcurrency", FN)),
    "lambda.put_function_concurrency": call(A, ("lambda:PutFunctionConcurrency", FN)),
    "lambda.delete_function_concurrency": call(A, ("lambda:DeleteFunctionConcurrency", FN)),
    "lambda.get_account_settings": call(E, ("lambda:GetAccountSettings", ANY)),
    "lambda.list_event_source_mappings": call(E, ("lambda:ListEventSourceMappings", ANY)),
    "lambda.get_function_event_invoke_config": call(E, ("lambda:GetFunctionEventInvokeConfig", FN)),
    "lambda.list_functions": call(E, ("lambda:ListFunctions", ANY)),
    "lambda.invoke": call(A, ("lambda:InvokeFunction", FN)),  # a replay
    "lambda.get_provisioned_concurrency_config": call(
        E, ("lambda:GetProvisionedConcurrencyConfig", LIVE)
    ),
    "lambda.put_provisioned_concurrency_config": call(
        A, ("lambda:PutProvisionedConcurrencyConfig", LIVE)
    ),
    "lambda.delete_provisioned_concurrency_config": call(
        A, ("lambda:DeleteProvisionedConcurrencyConfig", LIVE)
    ),
    "lambda.list_provisioned_concurrency_configs": call(
        E, ("lambda:ListProvisionedConcurrencyConfigs", FN)
    ),
    "sqs.get_queue_url": call(E, ("sqs:GetQueueUrl", DLQ)),
    "sqs.get_queue_attributes": call(E, ("sqs:GetQueueAttributes", DLQ)),
    # a peek (a diagnosis's samples, a redrive preview), and a replay's receive
    "sqs.receive_message": call(EA, ("sqs:ReceiveMessage", DLQ)),
    "sqs.change_message_visibility_batch": call(E, ("sqs:ChangeMessageVisibility", DLQ)),
    "sqs.list_dead_letter_source_queues": call(E, ("sqs:ListDeadLetterSourceQueues", DLQ)),
    "sqs.delete_message": call(A, ("sqs:DeleteMessage", DLQ)),
    "sqs.delete_message_batch": call(A, ("sqs:DeleteMessage", DLQ)),
    # the task reads and deletes the DLQ's messages and sends them back as its caller (SQS
    # Developer Guide, "Amazon SQS API permissions: Actions and resource reference")
    "sqs.start_message_move_task": call(
        A,
        ("sqs:StartMessageMoveTask", DLQ),
        ("sqs:ReceiveMessage", DLQ),
        ("sqs:DeleteMessage", DLQ),
        ("sqs:GetQueueAttributes", DLQ),
        ("sqs:SendMessage", JOBS),
    ),
    "sqs.list_message_move_tasks": call(E, ("sqs:ListMessageMoveTasks", DLQ)),
    "sqs.cancel_message_move_task": call(A, ("sqs:CancelMessageMoveTask", DLQ)),
    "cloudwatch.get_metric_data": call(E, ("cloudwatch:GetMetricData", ANY)),
    "cloudwatch.get_metric_widget_image": call(E, ("cloudwatch:GetMetricWidgetImage", ANY)),
    "cloudwatch.describe_alarms": call(E, ("cloudwatch:DescribeAlarms", ALARM)),
    "cloudwatch.list_tags_for_resource": call(E, ("cloudwatch:ListTagsForResource", ALARM)),
    # on the rule and on each alarm it mutes (CloudWatch API Reference, PutAlarmMuteRule)
    "cloudwatch.put_alarm_mute_rule": call(
        A, ("cloudwatch:PutAlarmMuteRule", RULE), ("cloudwatch:PutAlarmMuteRule", ALARM)
    ),
    "cloudwatch.get_alarm_mute_rule": call(E, ("cloudwatch:GetAlarmMuteRule", RULE)),
    "cloudwatch.delete_alarm_mute_rule": call(A, ("cloudwatch:DeleteAlarmMuteRule", RULE)),
    "logs.filter_log_events": call(E, ("logs:FilterLogEvents", LOGS)),
    "iam.get_account_authorization_details": call(E, ("iam:GetAccountAuthorizationDetails", ANY)),
}
FACADES = {
    "lambda": "lambda_",
    "sqs": "sqs",
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "iam": "iam",
}


def arn(resource: str, account: str, region: str = REGION) -> str:
    """`sqs:orders-dlq` as that queue's ARN in `account`; `*` stays `*`."""
    if resource == ANY:
        return ANY
    service, rest = resource.split(":", 1)
    return f"arn:aws:{service}:{region}:{account}:{rest}"


def needs(sessions: set[str]) -> list[tuple[str, str, str]]:
    """(call, action, resource) of every call made with one of these sessions."""
    return [
        (name, action, resource)
        for name, c in CALLS.items()
        if c.sessions & sessions
        for action, resource in c.needs
    ]


# --- the member account -------------------------------------------------------------------


def test_every_aws_call_of_the_facades_is_accounted_for() -> None:
    """A call added to chalicelib/aws/ must say here what it needs and with which session."""
    made = set()
    for service, module in FACADES.items():
        source = (ROOT / "chalicelib" / "aws" / f"{module}.py").read_text()
        ops = set(re.findall(r"client\.([a-z_]+)\(", source))
        ops |= set(re.findall(r'get_paginator\(\s*"([a-z_]+)"', source))
        made |= {f"{service}.{op}" for op in ops - {"get_paginator"}}
    assert made == set(CALLS)


def test_every_action_named_is_an_aws_action() -> None:
    named = {action for _, action, _ in needs({EVIDENCE, ACTING})}
    named |= {
        a
        for s in [*MEMBER_STATEMENTS, *API_HANDLER]
        for a in _strings(s.get("Action", s.get("NotAction")))
        if "*" not in a
    }
    assert [a for a in sorted(named) if not KNOWN.knows(a)] == []


@pytest.mark.parametrize(("name", "action", "resource"), needs({EVIDENCE}))
def test_the_member_role_allows_each_call_made_without_a_user(
    name: str, action: str, resource: str
) -> None:
    target = arn(resource, MEMBER)
    assert decide(MEMBER_STATEMENTS, action, target, session(EVIDENCE)) == "allow", name


@pytest.mark.parametrize(("name", "action", "resource"), needs({ACTING}))
def test_the_member_role_allows_each_call_made_for_a_slack_user(
    name: str, action: str, resource: str
) -> None:
    target = arn(resource, MEMBER)
    assert decide(MEMBER_STATEMENTS, action, target, session(ACTING)) == "allow", name


def test_a_redrive_preview_peeks_with_the_session_without_a_user() -> None:
    """ReceiveMessage, then ChangeMessageVisibility to 0 (SqsApi.peek), in a member account."""
    for op in ("sqs.receive_message", "sqs.change_message_visibility_batch"):
        assert EVIDENCE in CALLS[op].sessions
        [(action, resource)] = CALLS[op].needs
        assert decide(MEMBER_STATEMENTS, action, arn(resource, MEMBER), session(EVIDENCE)) == (
            "allow"
        )


def test_no_change_is_allowed_without_a_slack_user_but_the_peek() -> None:
    """Every write or permissions action of the services Shepherd reads, on the account's
    functions, queues, alarms and logs: the session without a user may only peek."""
    places = {
        "lambda": [FN, LIVE, ANY],
        "sqs": [DLQ, ANY],
        "cloudwatch": [ALARM, RULE, ANY],
        "logs": [LOGS, ANY],
        "iam": [ANY],
    }
    allowed = {
        action
        for action in KNOWN.levels
        if action.split(":")[0] in places and writes(action)
        for resource in places[action.split(":")[0]]
        if decide(MEMBER_STATEMENTS, action, arn(resource, MEMBER), session(EVIDENCE)) == "allow"
    }
    assert allowed == {"sqs:ChangeMessageVisibility"}


def test_a_change_needs_a_slack_user_as_source_identity() -> None:
    read_without_one = {action for _, action, _ in needs({EVIDENCE})}
    stranger = {**session(EVIDENCE), "aws:SourceIdentity": "deploy-bot"}
    for name, action, resource in needs({ACTING}):
        if action in read_without_one:
            continue  # the move task's own reads of the DLQ
        target = arn(resource, MEMBER)
        assert decide(MEMBER_STATEMENTS, action, target, session(EVIDENCE)) == "implicit", name
        assert decide(MEMBER_STATEMENTS, action, target, stranger) == "implicit", name


def test_the_member_role_grants_no_code_download() -> None:
    target = arn(FN, MEMBER)
    for kind in (EVIDENCE, ACTING):
        assert decide(MEMBER_STATEMENTS, "lambda:GetFunction", target, session(kind)) != "allow"


def test_the_member_role_changes_nothing_in_another_account() -> None:
    for name, action, resource in needs({EVIDENCE, ACTING}):
        if not writes(action):
            continue
        target = arn(resource, OTHER)
        assert decide(MEMBER_STATEMENTS, action, target, session(ACTING)) == "implicit", name


# --- who may assume it ------------------------------------------------------------------------


def assume(principal: str, external_id: str | None, action: str = "sts:AssumeRole") -> str:
    [trust] = MEMBER_ROLE["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{HOME}:root"}  # and no other account
    context = {"aws:PrincipalArn": principal}
    if external_id is not None:
        context["sts:ExternalId"] = external_id
    return decide([{**trust, "Resource": "*"}], action, "*", context)


def test_the_member_role_needs_the_external_id() -> None:
    shepherd = f"arn:aws:iam::{HOME}:role/shepherd-prod-api_handler"
    for action in ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"):  # Aws.acting
        assert assume(shepherd, EXTERNAL_ID, action) == "allow"
    assert assume(shepherd, None) == "implicit"
    assert assume(shepherd, "something-else-entirely") == "implicit"
    assert assume(f"arn:aws:iam::{HOME}:role/deployer", EXTERNAL_ID) == "implicit"


def test_the_external_id_parameter_is_required_and_checked() -> None:
    parameter = MEMBER_TEMPLATE["Parameters"]["ExternalId"]
    assert "Default" not in parameter
    assert "Conditions" not in MEMBER_TEMPLATE  # nothing drops the condition
    pattern = re.compile(parameter["AllowedPattern"])

    def accepted(value: str) -> bool:
        fits = parameter["MinLength"] <= len(value) <= parameter["MaxLength"]
        return fits and bool(pattern.fullmatch(value))

    assert accepted(secrets.token_hex(16))
    assert accepted("shepherd/staging:2026-acct.1")
    assert not accepted("")
    assert not accepted("short-id")
    assert not accepted("has a space in it, too")


# --- api_handler at home -----------------------------------------------------------------


HOME_CONTEXT = {"aws:PrincipalAccount": HOME}
# The configuration changes no command may make to Shepherd's own functions (PRODUCT.md §5).
CONFIGURATION_CHANGES = (
    "lambda:UpdateFunctionConfiguration",
    "lambda:UpdateFunctionCode",
    "lambda:PutFunctionConcurrency",
    "lambda:DeleteFunctionConcurrency",
    "lambda:UpdateAlias",
    "lambda:CreateAlias",
    "lambda:DeleteAlias",
    "lambda:PublishVersion",
    "lambda:PutProvisionedConcurrencyConfig",
    "lambda:DeleteProvisionedConcurrencyConfig",
    "lambda:PutFunctionEventInvokeConfig",
    "lambda:UpdateFunctionEventInvokeConfig",
    "lambda:AddPermission",
    "lambda:RemovePermission",
    "lambda:DeleteFunction",
)


@pytest.mark.parametrize("function", OWN_FUNCTIONS)
def test_api_handler_may_not_change_shepherd_s_own_functions(function: str) -> None:
    for target in (
        arn(f"lambda:function:{function}", HOME),
        arn(f"lambda:function:{function}:live", HOME),
    ):
        for action in CONFIGURATION_CHANGES:
            assert decide(API_HANDLER, action, target, HOME_CONTEXT) == "deny", (action, target)


def test_the_deny_covers_every_lambda_write_but_invoking() -> None:
    target = arn(f"lambda:function:{OWN_FUNCTIONS[0]}", HOME)
    lambda_writes = [a for a in KNOWN.levels if a.startswith("lambda:") and writes(a)]
    let = [a for a in lambda_writes if decide(API_HANDLER, a, target, HOME_CONTEXT) != "deny"]
    assert let == ["lambda:InvokeFunction"]


def test_api_handler_still_invokes_itself_and_replays_into_shepherd() -> None:
    """Lazy listeners, and a redrive of shepherd-dlq back into the function that failed."""
    for function in OWN_FUNCTIONS:
        target = arn(f"lambda:function:{function}", HOME)
        assert decide(API_HANDLER, "lambda:InvokeFunction", target, HOME_CONTEXT) == "allow"


@pytest.mark.parametrize(("name", "action", "resource"), needs({ACTING}))
def test_api_handler_makes_each_change_in_its_own_account_only(
    name: str, action: str, resource: str
) -> None:
    fleet = resource.replace("image-resizer", "payments-capture")
    for region in (REGION, "us-west-2"):  # `--region`: any region of the account
        home = arn(fleet, HOME, region)
        assert decide(API_HANDLER, action, home, HOME_CONTEXT) == "allow", (name, home)
    if writes(action):  # the move task's reads of the DLQ are reads anywhere, as all reads are
        elsewhere = arn(fleet, OTHER)
        assert decide(API_HANDLER, action, elsewhere, HOME_CONTEXT) == "implicit", name


def test_api_handler_s_policy_needs_no_suppression() -> None:
    role = {
        "RoleName": "shepherd-prod-api_handler",
        "Path": "/",
        "AssumeRolePolicyDocument": {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ]
        },
        "RolePolicyList": [
            {"PolicyName": str(i), "PolicyDocument": document}
            for i, document in enumerate(
                [policy_file("api_handler"), *merged_policies("api_handler")]
            )
        ],
        "AttachedManagedPolicies": [],
    }
    findings = analyzer.audit({"RoleDetailList": [role]}).findings
    assert [f"{f.kind} {f.statement}" for f in findings] == []


@pytest.mark.parametrize("function", sorted(CONFIG["lambda_functions"]))
def test_each_function_reads_configuration_without_the_code_url(function: str) -> None:
    """LambdaApi.function calls GetFunctionConfiguration; GetFunction is granted nowhere."""
    statements = packaged(function)
    target = arn(FN, HOME)
    reads = decide(statements, "lambda:GetAlias", target, HOME_CONTEXT) == "allow"
    if reads:
        assert decide(statements, "lambda:GetFunctionConfiguration", target, HOME_CONTEXT) == (
            "allow"
        )
    assert decide(statements, "lambda:GetFunction", target, HOME_CONTEXT) != "allow"
