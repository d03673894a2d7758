"""Member accounts: configured or refused at start, assumed with STS, alarms diagnosed in theirs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.accounts import Account, Accounts, load_accounts
from chalicelib.alarms.delivery import Attempt, on_event
from chalicelib.config import Settings
from chalicelib.container import Container
from chalicelib.errors import BadInput
from devtools import fleet
from devtools.fake_slack import FakeSlack
from devtools.fleet.accounts import as_account, member_session
from devtools.fleet.events import ACCOUNT as HOME

STAGING = "210987654321"
ROLE = f"arn:aws:iam::{STAGING}:role/shepherd-member"
XID = "7d1e4b9a2c6f0e3a8b5d"  # the external id the member role requires


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(doc))
    return path


def test_no_file_means_shepherd_s_own_account_only(tmp_path: Path) -> None:
    assert load_accounts(tmp_path / "absent.json") == Accounts()


def test_a_well_formed_file_is_read(tmp_path: Path) -> None:
    doc = {
        "accounts": [
            {
                "id": STAGING,
                "name": "staging",
                "role": ROLE,
                "regions": ["eu-west-1"],
                "external_id": XID,
            }
        ]
    }
    accounts = load_accounts(write(tmp_path, doc))
    assert accounts.named("staging") == accounts.named(STAGING)
    assert accounts.get(STAGING) == Account(STAGING, "staging", ROLE, XID, regions=("eu-west-1",))
    assert accounts.get(HOME) is None


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ({"id": "2109876", "name": "staging", "role": ROLE}, "not 12 digits"),
        ({"id": STAGING, "name": "Staging!", "role": ROLE}, "lower-case"),
        ({"id": STAGING, "name": "staging", "role": f"arn:aws:iam::{HOME}:role/x"}, "not a role"),
        ({"id": STAGING, "name": "staging", "role": ROLE, "regions": ["mars-1"]}, "not a region"),
        ({"id": STAGING, "name": "staging"}, "role"),
        ({"id": STAGING, "name": "staging", "role": f"arn:aws:iam::{STAGING}:role/admin"}, "only"),
        (
            {"id": STAGING, "name": "staging", "role": ROLE, "operators": "U1", "external_id": XID},
            "lists of strings",
        ),
        ({"id": STAGING, "name": "staging", "role": ROLE}, "needs an `external_id`"),
        ({"id": STAGING, "name": "staging", "role": ROLE, "external_id": "short"}, "16 to 1224"),
        (
            {
                "id": STAGING,
                "name": "staging",
                "role": ROLE,
                "external_id": XID,
                "approvals": ["alias", "rollback"],
            },
            "`rollback` is not an approval rule",
        ),
    ],
)
def test_a_malformed_account_is_an_error_at_start(tmp_path: Path, raw: Any, why: str) -> None:
    with pytest.raises(BadInput, match=why):
        load_accounts(write(tmp_path, {"accounts": [raw]}))


def test_an_account_given_twice_is_an_error(tmp_path: Path) -> None:
    twice = [
        {"id": STAGING, "name": n, "role": ROLE, "external_id": XID} for n in ("staging", "stage")
    ]
    with pytest.raises(BadInput, match="given twice"):
        load_accounts(write(tmp_path, {"accounts": twice}))


def test_an_unknown_account_name_is_a_clear_answer() -> None:
    with pytest.raises(BadInput, match=r"no configured account `prod`.*`staging`"):
        Accounts((Account(STAGING, "staging", ROLE),)).named("prod")


def in_staging(aws: boto3.Session) -> boto3.Session:
    """moto's staging account, as its own admin would use it."""
    return member_session(aws, STAGING)


class Context:
    aws_request_id = "attempt-1"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_an_alarm_from_a_member_account_is_diagnosed_with_that_account_s_evidence(
    aws: boto3.Session, slack: FakeSlack
) -> None:
    import os

    [scenario] = fleet.seed(["throttling"], in_staging(aws))  # payments-capture, in staging only
    assumed: list[dict[str, Any]] = []
    bot = Container(
        Settings(
            slack_api_url=os.environ["SLACK_API_URL"],
            bot_token="xoxb",
            signing_secret="s",
            accounts=Accounts((Account(STAGING, "staging", ROLE, channel="#staging-alarms"),)),
        ),
        aws,
    )
    bot.aws.client("sts").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: assumed.append(params)
    )

    on_event(as_account(scenario.event, STAGING), bot.alarm_deps, Attempt.of(Context()))

    [post] = [m for m in slack.messages.values() if not m.thread_ts]
    assert post.channel == "#staging-alarms"  # the member account's own alarm channel
    assert f"account {STAGING}" in post.text or STAGING in json.dumps(post.blocks)
    assert "Reserved concurrency 5" in json.dumps(post.blocks)  # read in staging
    assert "not found" not in json.dumps(post.blocks).lower()
    assert [(a["RoleArn"], a["RoleSessionName"]) for a in assumed] == [(ROLE, "shepherd-evidence")]
    assert "SourceIdentity" not in assumed[0]  # evidence is read without a user
    assert f"--account {STAGING}" in json.dumps(post.blocks)  # its fix is made in staging
    with pytest.raises(aws.client("lambda").exceptions.ResourceNotFoundException):
        aws.client("lambda").get_function(FunctionName="payments-capture")  # home untouched


def staging_bot(aws: boto3.Session) -> tuple[Container, list[dict[str, Any]]]:
    bot = Container(
        Settings(operators=("UOPERATOR",), accounts=Accounts((Account(STAGING, "staging", ROLE),))),
        aws,
    )
    assumed: list[dict[str, Any]] = []
    bot.aws.client("sts").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: assumed.append(params)
    )
    return bot, assumed


def reserved_in(session: boto3.Session, function: str) -> int | None:
    found = session.client("lambda").get_function_concurrency(FunctionName=function)
    value = found.get("ReservedConcurrentExecutions")
    return None if value is None else int(value)


def test_a_change_in_a_member_account_is_made_there_in_the_name_of_the_slack_user(
    aws: boto3.Session,
) -> None:
    from tests.functional.conftest import SlackOps
    from tests.functional.test_ops_commands import action_id

    staging = in_staging(aws)
    fleet.seed(["throttling"], staging)  # payments-capture, reserved 5, in staging only
    bot, assumed = staging_bot(aws)
    ops = SlackOps(bot)

    home = ops.run("concurrency payments-capture reserve 15", "UOPERATOR")
    assert "no function" in home.text  # not in Shepherd's own account
    status = ops.run("status payments-capture --account staging", "UOPERATOR").text
    assert "Reserved concurrency: 5" in status

    preview = ops.run("concurrency payments-capture reserve 15 --account staging", "UOPERATOR")
    assert "5 → 15" in preview.text  # read in staging
    action = action_id({"blocks": preview.blocks}, "ops_confirm")
    done = ops.confirm(action, "UOPERATOR")
    assert ":white_check_mark:" in done.text
    assert reserved_in(staging, "payments-capture") == 15

    [change] = [a for a in assumed if "SourceIdentity" in a]
    assert change["RoleArn"] == ROLE
    assert change["SourceIdentity"] == "slack-UOPERATOR"
    assert {"Key": "shepherd-action", "Value": action} in change["Tags"]
    assert {"Key": "approver", "Value": "UOPERATOR"} in change["Tags"]
    reads = [a for a in assumed if "SourceIdentity" not in a]
    assert reads and all(a["RoleSessionName"] == "shepherd-evidence" for a in reads)

    undo = ops.run(f"undo {action}", "UOPERATOR")
    assert "15 → 5" in undo.text  # previewed in staging, where the action was made
    ops.confirm(action_id({"blocks": undo.blocks}, "ops_confirm"), "UOPERATOR")
    assert reserved_in(staging, "payments-capture") == 5

    history = ops.run("history payments-capture --account staging", "UOPERATOR").text
    assert action in history
    assert "No actions recorded" in ops.run("history payments-capture", "UOPERATOR").text


def test_a_command_for_an_account_not_configured_is_refused_with_the_configured_ones(
    aws: boto3.Session,
) -> None:
    from tests.functional.conftest import SlackOps

    bot, assumed = staging_bot(aws)
    reply = SlackOps(bot).run("concurrency orders reserve 5 --account prod", "UOPERATOR")
    assert "no configured account `prod`" in reply.text and "`staging`" in reply.text
    assert assumed == []


PROD = "333333333333"


def accounts_file(tmp_path: Path, *members: tuple[str, str]) -> Path:
    doc = {
        "accounts": [
            {
                "id": i,
                "name": n,
                "role": f"arn:aws:iam::{i}:role/shepherd-member",
                "external_id": XID,
            }
            for i, n in members
        ]
    }
    return write(tmp_path, doc)


def test_the_nightly_audit_fans_out_per_account_and_reports_each_and_the_unreachable(
    aws: boto3.Session,
    slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalice.test import Client

    from tests.functional.conftest import BOT_TOKEN, SIGNING_SECRET, serve
    from tests.functional.test_audit_handlers import grant, posts, tick

    grant(aws.client("iam"), "deployer", "iam:PassRole")  # Shepherd's own account
    grant(in_staging(aws).client("iam"), "staging-admin", "*")  # staging: a full admin
    monkeypatch.setenv(
        "SHEPHERD_ACCOUNTS_FILE", str(accounts_file(tmp_path, (STAGING, "staging"), (PROD, "prod")))
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("SHEPHERD_LAZY_IN_PROCESS", "1")
    bot = serve(aws)

    def prod_refuses(params: dict[str, Any], **_: Any) -> None:
        if PROD in params["RoleArn"]:
            raise bot.aws.client("sts").exceptions.ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not trusted"}}, "AssumeRole"
            )

    bot.aws.client("sts").meta.events.register("provide-client-params.sts.AssumeRole", prod_refuses)
    import app

    with Client(app.app) as client:
        first = client.lambda_.invoke("nightly_iam_audit", tick(client)).payload
        # deployer: PassRole on every role (one finding); staging-admin: full admin
        assert first == {"accounts": 3, "new": 2, "fixed": 0, "unreachable": 1, "posted": True}
        [summary, *thread] = posts(slack)
        text = str(summary["text"])
        assert "own account*: first run" in text and "staging*: first run" in text
        assert "prod*: could not be audited (AccessDenied" in text
        assert any("staging-admin" in str(t["text"]) for t in thread)
        assert any("role/deployer" in str(t["text"]) for t in thread)

        aws.client("iam").delete_role_policy(RoleName="deployer", PolicyName="app")
        again = client.lambda_.invoke("nightly_iam_audit", tick(client)).payload
    assert (again["new"], again["unreachable"], again["posted"]) == (0, 1, True)
    assert again["fixed"] >= 1  # the deployer's findings, in Shepherd's own account only
    latest = posts(slack)[len(thread) + 1]
    assert f"own account*: 0 new, {again['fixed']} fixed" in str(latest["text"])
    assert "staging*: 0 new, 0 fixed" in str(latest["text"])  # kept apart per account


def test_a_member_account_s_own_operators_decide_its_changes(aws: boto3.Session) -> None:
    from tests.functional.conftest import SlackOps

    fleet.seed(["throttling"], in_staging(aws))
    member = Account(STAGING, "staging", ROLE, operators=("USTAGINGLEAD",))
    bot = Container(Settings(operators=("UOPERATOR",), accounts=Accounts((member,))), aws)
    ops = SlackOps(bot)
    text = "concurrency payments-capture reserve 15 --account staging"

    refused = ops.run(text, "UOPERATOR").text
    assert "Refused" in refused and "the operators of `staging`" in refused
    assert "5 → 15" in ops.run(text, "USTAGINGLEAD").text


def test_three_accounts_two_regions_each_alarm_diagnosed_at_home_and_a_rollback_stays_in_its_own(
    aws: boto3.Session, slack: FakeSlack
) -> None:
    import os

    from tests.functional.conftest import SlackOps
    from tests.functional.test_ops_commands import action_id

    prod_role = f"arn:aws:iam::{PROD}:role/shepherd-member"
    staging, prod = in_staging(aws), member_session(aws, PROD)
    [own_deploy] = fleet.seed(["recent_deploy"], aws)  # checkout-api:live → v3, eu-west-1
    [staging_deploy] = fleet.seed(["recent_deploy"], staging)  # the same names, in staging
    [prod_oom] = fleet.seed(["out_of_memory"], prod)  # us-east-1
    accounts = Accounts((Account(STAGING, "staging", ROLE), Account(PROD, "prod", prod_role)))
    bot = Container(
        Settings(
            slack_api_url=os.environ["SLACK_API_URL"],
            bot_token="xoxb",
            signing_secret="s",
            operators=("UOPERATOR",),
            accounts=accounts,
        ),
        aws,
    )
    for event in (
        own_deploy.event,
        as_account(staging_deploy.event, STAGING),
        as_account(prod_oom.event, PROD),
    ):
        on_event(event, bot.alarm_deps, Attempt.of(Context()))
    posts = [json.dumps(m.blocks) for m in slack.messages.values() if not m.thread_ts]
    assert len(posts) == 3
    by_account = {a: next(b for b in posts if f"account {a}" in b) for a in (HOME, STAGING, PROD)}
    assert "Recent deploy" in by_account[HOME] and "eu-west-1" in by_account[HOME]
    assert "Recent deploy" in by_account[STAGING] and "eu-west-1" in by_account[STAGING]
    assert "Out of memory" in by_account[PROD] and "us-east-1" in by_account[PROD]
    assert f'/ops status image-resizer --account {PROD}"' in by_account[PROD]  # its own region
    assert "--region eu-west-1" in by_account[HOME]  # not Shepherd's region: the buttons say
    assert f"--account {STAGING} --region eu-west-1" in by_account[STAGING]

    ops = SlackOps(bot)
    text = "alias checkout-api live rollback --account staging --region eu-west-1"
    preview = ops.run(text, "UOPERATOR")
    assert "v3 → v2" in preview.text
    ops.confirm(action_id({"blocks": preview.blocks}, "ops_confirm"), "UOPERATOR")

    def live(session: boto3.Session) -> str:
        lam = session.client("lambda", region_name="eu-west-1")
        return str(lam.get_alias(FunctionName="checkout-api", Name="live")["FunctionVersion"])

    assert live(staging) == "2"
    assert live(aws) == "3"  # Shepherd's own account, same names: untouched


def test_a_member_account_s_viewers_and_channel_decide_who_sees_its_audit(
    aws: boto3.Session,
) -> None:
    from chalicelib.ops.viewers import Where
    from chalicelib.slack.replies import reply_to
    from tests.functional.test_audit_handlers import grant

    grant(in_staging(aws).client("iam"), "staging-admin", "*")
    member = Account(STAGING, "staging", ROLE, channel="#staging-alarms", viewers=("UAUDITOR",))
    bot = Container(Settings(operators=("UOPERATOR",), accounts=Accounts((member,))), aws)

    def audit(user: str, channel: str) -> Any:
        where = Where(f"C-{channel}", channel)
        return reply_to(lambda: bot.ops.run("audit --account staging", user, where))

    assert "Shown to you only" in audit("UAUDITOR", "random").text  # a staging viewer
    assert "shown to viewers only" in audit("UOPERATOR", "random").text  # not one of staging's
    posted = audit("UOPERATOR", "staging-alarms")  # staging's own channel: posted there
    assert posted.thread is not None and any("staging-admin" in t for t in posted.thread)
    assert "IAM wildcard audit of staging (210987654321)" in posted.text  # whose audit it is


def test_a_redrive_in_a_member_account_replays_there_into_its_functions(aws: boto3.Session) -> None:
    from tests.functional.conftest import SlackOps
    from tests.functional.test_ops_commands import action_id

    staging = in_staging(aws)
    fleet.failed_deliveries(staging, count=4)  # invoice-mailer and its failed records, in staging
    bot, assumed = staging_bot(aws)
    ops = SlackOps(bot)

    preview = ops.run("redrive invoice-mailer-failed --account staging --rate 50", "UOPERATOR")
    assert "Replay 4 of 4" in preview.text and "invoice-mailer" in preview.text
    done = ops.confirm(action_id({"blocks": preview.blocks}, "ops_confirm"), "UOPERATOR")

    assert "replayed 4 message(s)" in done.text and "deleted 4" in done.text
    sqs = staging.client("sqs")
    url = sqs.get_queue_url(QueueName="invoice-mailer-failed")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert any(a.get("SourceIdentity") == "slack-UOPERATOR" for a in assumed)


def test_a_member_account_s_first_region_is_where_its_commands_go_by_default(
    aws: boto3.Session,
) -> None:
    from tests.functional.conftest import SlackOps

    fleet.seed(["recent_deploy"], in_staging(aws))  # checkout-api, in staging's eu-west-1
    member = Account(STAGING, "staging", ROLE, regions=("eu-west-1", "us-east-1"))
    bot = Container(Settings(operators=("UOPERATOR",), accounts=Accounts((member,))), aws)
    ops = SlackOps(bot)
    assert (
        "checkout-api:live* → version 3"
        in ops.run("alias checkout-api live --account staging", "U1").text
    )
    elsewhere = ops.run("alias checkout-api live --account staging --region us-east-1", "U1")
    assert "no function" in elsewhere.text.lower() or "no alias" in elsewhere.text.lower()


OUTSIDER = "999988887777"  # in neither the accounts file nor Shepherd's own


@pytest.mark.parametrize("scenario_name", ["throttling", "dlq_backlog"])
def test_an_alarm_from_an_unconfigured_account_is_never_read_as_home(
    aws: boto3.Session, slack: FakeSlack, scenario_name: str
) -> None:
    """The bus policy lets OUTSIDER send (or someone publishes to the topic) while the accounts
    file names only staging: its alarm on a name that also exists at home must not be diagnosed
    with home's function, nor get buttons that act at home."""
    import os

    [scenario] = fleet.seed([scenario_name], aws)  # the same names exist in Shepherd's account
    read: list[str] = []
    bot = Container(
        Settings(
            slack_api_url=os.environ["SLACK_API_URL"],
            bot_token="xoxb",
            signing_secret="s",
            accounts=Accounts((Account(STAGING, "staging", ROLE),)),
        ),
        aws,
    )
    for service in ("lambda", "logs", "cloudwatch", "sqs", "sts"):
        bot.aws.client(service).meta.events.register(
            f"before-call.{service}", lambda model, **_: read.append(model.name)
        )

    counts = on_event(as_account(scenario.event, OUTSIDER), bot.alarm_deps, Attempt.of(Context()))

    [post] = [m for m in slack.messages.values() if not m.thread_ts]
    said = post.text + json.dumps(post.blocks)
    assert "unconfigured account" in said and OUTSIDER in said
    assert not [b for b in post.blocks if b["type"] == "actions"]  # no fix, no snooze, no ack
    assert "Reserved concurrency" not in said and "orders-queue" not in said  # no home evidence
    assert read == ["GetCallerIdentity"]  # who home is, and nothing else read anywhere
    assert counts.counts()["posted"] == 1
    again = on_event(as_account(scenario.event, OUTSIDER), bot.alarm_deps, Attempt.of(Context()))
    assert again.counts()["duplicates"] == 1 and len(slack.messages) == 1


def test_the_recovery_of_an_unconfigured_account_s_alarm_is_only_logged(
    aws: boto3.Session, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    [scenario] = fleet.seed(["throttling"], aws)
    bot = Container(
        Settings(slack_api_url=os.environ["SLACK_API_URL"], bot_token="x", signing_secret="s"),
        aws,
    )
    ok = json.loads(json.dumps(as_account(scenario.event, OUTSIDER)))
    message = json.loads(ok["Records"][0]["Sns"]["Message"])
    message.update(NewStateValue="OK", OldStateValue="ALARM")
    ok["Records"][0]["Sns"]["Message"] = json.dumps(message)

    on_event(ok, bot.alarm_deps, Attempt.of(Context()))

    assert slack.messages == {}
    assert "unconfigured account 999988887777: not shown" in caplog.text


def test_a_change_approved_in_a_member_account_carries_both_people_in_its_session(
    aws: boto3.Session,
) -> None:
    """The accounts file's own rule: the kill switch in staging needs a second operator."""
    from chalicelib.approvals import parse_rules
    from tests.functional.conftest import SlackOps
    from tests.functional.test_ops_commands import action_id

    fleet.seed(["throttling"], in_staging(aws))
    rules = parse_rules("reserve-0", "account `staging` approvals", "staging")
    member = Account(STAGING, "staging", ROLE, approvals=rules)
    bot = Container(Settings(operators=("UOPERATOR", "USECOND"), accounts=Accounts((member,))), aws)
    assumed: list[dict[str, Any]] = []
    bot.aws.client("sts").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: assumed.append(params)
    )
    ops = SlackOps(bot)
    home = ops.run("concurrency payments-capture reserve 0", "UOPERATOR").text
    assert "second operator" not in home  # the rule is staging's alone
    preview = ops.run("concurrency payments-capture reserve 0 --account staging", "UOPERATOR")
    assert "needs a second operator (account `staging` approvals)" in preview.text
    action = action_id({"blocks": preview.blocks}, "ops_approve")
    assert "another operator must approve" in ops.confirm(action, "UOPERATOR").text
    assert "approved by <@USECOND>" in ops.confirm(action, "USECOND").text
    assert reserved_in(in_staging(aws), "payments-capture") == 0

    [change] = [a for a in assumed if "SourceIdentity" in a]
    assert change["SourceIdentity"] == "slack-USECOND"
    assert {"Key": "approver", "Value": "USECOND"} in change["Tags"]
    assert {"Key": "proposer", "Value": "UOPERATOR"} in change["Tags"]


def test_a_runbook_run_with_account_runs_every_step_there_and_is_undone_there(
    aws: boto3.Session, tmp_path: Path
) -> None:
    from tests.functional.conftest import SlackOps
    from tests.functional.test_ops_commands import action_id

    staging = in_staging(aws)
    fleet.seed(["throttling"], staging)  # payments-capture, reserved 5, in staging only
    runbooks = write(
        tmp_path,
        {
            "runbooks": [
                {
                    "name": "cap",
                    "steps": ["concurrency {function} reserve 15", "memory {function} 1024"],
                }
            ]
        },
    )
    settings = Settings(
        operators=("UOPERATOR",),
        accounts=Accounts((Account(STAGING, "staging", ROLE),)),
        runbooks_file=runbooks,
    )
    bot = Container(settings, aws)
    assumed: list[dict[str, Any]] = []
    bot.aws.client("sts").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: assumed.append(params)
    )
    ops = SlackOps(bot)
    assert "no function" in ops.run("runbook cap function=payments-capture", "UOPERATOR").text
    preview = ops.run("runbook cap function=payments-capture --account staging", "UOPERATOR")
    run = action_id({"blocks": preview.blocks}, "ops_confirm")
    assert "ran 2 step(s)" in ops.confirm(run, "UOPERATOR").text
    lam = staging.client("lambda")
    assert reserved_in(staging, "payments-capture") == 15
    assert lam.get_function_configuration(FunctionName="payments-capture")["MemorySize"] == 1024
    recorded = bot.action_log.get(run)
    assert recorded is not None and recorded.account == STAGING
    changes = [a for a in assumed if "SourceIdentity" in a]
    assert len(changes) == 2 and all(c["SourceIdentity"] == "slack-UOPERATOR" for c in changes)

    undo = ops.run(f"undo {run}", "UOPERATOR")
    ops.confirm(action_id({"blocks": undo.blocks}, "ops_confirm"), "UOPERATOR")
    assert reserved_in(staging, "payments-capture") == 5
