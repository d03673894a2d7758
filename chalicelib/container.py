"""Everything a handler needs, built once per Lambda container and only when first used.

`build(settings)` wires the parts; each is a cached property, so a cold `/ops help` pays for
Slack and the action log but not for the diagnosis, and an alarm pays for nothing of `/ops`.
Tests build a container around moto and hand it to the app (`app.use(container)`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings, SlackSecrets

if TYPE_CHECKING:
    import boto3
    from slack_sdk import WebClient

    from chalicelib.alarms.attention import Attention
    from chalicelib.alarms.delivery import AlarmDeps
    from chalicelib.aws.session import Aws
    from chalicelib.diagnosis.causes import Diagnosis
    from chalicelib.ops.commands import Ops
    from chalicelib.ops.context import OpsContext
    from chalicelib.ops.home import HomeFacts
    from chalicelib.ops.operators import Operators
    from chalicelib.ops.runbooks import Runbooks
    from chalicelib.ops.viewers import Viewers
    from chalicelib.slack.keys import SlackKeys
    from chalicelib.slack.poster import SlackPoster
    from chalicelib.store.actions import Action, ActionLog
    from chalicelib.store.audit_runs import AuditRuns
    from chalicelib.store.snoozes import Snoozes
    from chalicelib.store.table import Table

log = logging.getLogger(__name__)
NOISY_LOGGERS = ("botocore", "boto3", "urllib3", "slack_sdk", "slack_bolt")


def configure_logging() -> None:
    from chalicelib import journal

    level = os.environ.get("SHEPHERD_LOG_LEVEL", "INFO").upper()
    logging.getLogger().setLevel(level)
    if journal.json_logs():
        journal.use_json(logging.getLogger())
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))


class Container:
    def __init__(self, settings: Settings, session: boto3.Session | None = None) -> None:
        from chalicelib.slack.poster import Deadline

        self.settings = settings
        self._session = session
        self._slack_handlers: dict[int, Any] = {}
        self.deadline = Deadline()  # the current invocation's, set by the handler

    # --- AWS and the store ----------------------------------------------------------------

    @cached_property
    def aws(self) -> Aws:
        """Shepherd's own account, and each configured member through AssumeRole (evidence is
        read there in a session without a user)."""
        from chalicelib.aws.session import Aws

        accounts = self.settings.accounts
        built = Aws(self._session, region=self.settings.region, members=accounts.ids)
        if accounts.members:
            from chalicelib.aws.assume import assumed_session

            def session_for(account: str) -> boto3.Session:
                member = accounts.named(account)
                return assumed_session(
                    built.client("sts"), member, built.region, session_name="shepherd-evidence"
                )

            built.session_for = session_for
        return built

    @cached_property
    def table(self) -> Table:
        return self.aws.table(self.settings.table)

    @cached_property
    def action_log(self) -> ActionLog:
        from chalicelib.ops.actions import codecs
        from chalicelib.store.actions import ActionLog

        return ActionLog(self.table, codecs())

    @cached_property
    def audit_runs(self) -> AuditRuns:
        from chalicelib.store.audit_runs import AuditRuns

        return AuditRuns(self.table)

    def audit_runs_for(self, account: str) -> AuditRuns:
        from chalicelib.store.audit_runs import AuditRuns

        return AuditRuns(self.table, account=account)

    def audit_invoker(self, function: str | None) -> Callable[[str], dict[str, Any]]:
        """How the scheduled audit asks for one account's: an invocation of its own function in
        Lambda (each with its own timeout), in this process elsewhere (tests, `make run`)."""
        from chalicelib.audit import fleet

        if function and not self.settings.lazy_in_process:
            from botocore.config import Config

            from chalicelib.aws.session import CLIENT_CONFIG

            waits = CLIENT_CONFIG.merge(
                Config(read_timeout=fleet.AUDIT_TIMEOUT_S + 10, retries={"total_max_attempts": 1})
            )
            client = self.aws.session.client("lambda", region_name=self.aws.region, config=waits)
            return fleet.lambda_invoker(client, function)
        return lambda account: fleet.audit_account(self.aws, self.audit_runs_for(account), account)

    # --- Slack ----------------------------------------------------------------------------

    @cached_property
    def slack_keys(self) -> SlackKeys:
        """Both Slack secrets, read in one round trip when they are stored in SSM, kept for
        their max age, and read again once when Slack refuses them."""
        from chalicelib.slack.keys import SlackKeys

        store = self.aws.secrets()
        return SlackKeys(lambda: self.settings.slack_secrets(store.get), store.refresh)

    @property
    def slack_secrets(self) -> SlackSecrets:
        return self.slack_keys.current()

    @cached_property
    def slack_client(self) -> WebClient:
        from chalicelib.slack.poster import web_client

        return web_client(self.slack_keys, self.settings.slack_api_url)

    @cached_property
    def poster(self) -> SlackPoster:
        """Alarm and audit posts: never re-sent blindly, 429s waited out only within the deadline."""
        from chalicelib.slack.poster import SlackPoster, web_client

        client = web_client(
            self.slack_keys,
            self.settings.slack_api_url,
            deadline=self.deadline,
            resend=False,
        )
        return SlackPoster(client)

    # --- the alarm path -------------------------------------------------------------------

    @cached_property
    def alarm_deps(self) -> AlarmDeps:
        from chalicelib.alarms.delivery import AlarmDeps
        from chalicelib.alarms.storms import StormDesk, StormRules
        from chalicelib.slack.alarm_channel import SlackAlarmChannel
        from chalicelib.store.alarm_states import AlarmStates
        from chalicelib.store.deliveries import Deliveries
        from chalicelib.store.storms import Storms

        by_account = {a.id: a.channel for a in self.settings.accounts.members if a.channel}
        channel = SlackAlarmChannel(self.poster, self.settings.channel, by_account, self.grapher)
        s = self.settings
        rules = StormRules(s.storm_threshold, s.storm_window_s, s.storm_redraw_s)
        return AlarmDeps(
            aws=self.aws,
            deliveries=Deliveries(self.table),
            states=AlarmStates(self.table),
            channel=channel,
            storms=StormDesk(Storms(self.table), channel, rules),
            snoozes=self.snoozes,
            runbooks=lambda d: self.runbooks.offered(d, self.settings.accounts),
        )

    def grapher(self, diagnosis: Diagnosis) -> bytes | None:
        """The diagnosis's evidence as a CloudWatch graph, drawn where the alarm is."""
        from chalicelib.diagnosis import graphs

        spec = graphs.widget(diagnosis)
        if spec is None:
            return None
        ev = diagnosis.evidence
        return self.aws.cloudwatch(ev.resource.region or None, ev.member).widget_image(spec)

    def home_facts(self) -> HomeFacts:
        """What the Home tab shows, read now."""
        from chalicelib.ops import actions
        from chalicelib.ops.home import read
        from chalicelib.store.storms import Storms

        def undoable(action: Action) -> bool:
            """Done, or a runbook run stopped after some of its steps ran (its undo undoes those)."""
            kind = actions.registry().get(action.kind)
            finished = action.status == "done" or (
                action.kind == "runbook" and action.status == "failed"
            )
            return finished and kind is not None and kind.follow_up(action) == "undo"

        states = self.alarm_deps.states
        return read(
            states, Storms(self.table), self.snoozes, self.action_log, self.audit_runs, undoable
        )

    @cached_property
    def attention(self) -> Attention:
        """Acknowledge and reminders, on the alarm path's own state and channel."""
        from chalicelib.alarms.attention import Attention, Reminders

        deps, s = self.alarm_deps, self.settings
        reminders = Reminders(s.remind_after_min * 60, s.remind_max, s.remind_here)
        channel: Any = deps.channel
        return Attention(
            deps.states,
            deps.storms,
            channel,
            self.snoozes,
            reminders,
            may_acknowledge=self.may_acknowledge,
        )

    def may_acknowledge(
        self, user: str, account: str, where: tuple[str, str] | None
    ) -> tuple[bool, str]:
        """Acknowledge is for the account's viewers (its viewer channels and people, which are
        its operators when no list is given) and its operators."""
        from chalicelib.ops.viewers import Where

        member = self.settings.accounts.get(account) if account else None
        viewers = self.viewers.for_account(member) if member else self.viewers
        seen = viewers.check(user, Where(*where) if where else None)
        if seen.allowed:
            return True, seen.why
        operators = self.operators
        if member is not None and member.operators:
            operators = operators.with_baseline(member.operators, f"the operators of {member.name}")
        acting = operators.check(user)
        return acting.allowed, acting.why if acting.allowed else seen.why

    # --- /ops -----------------------------------------------------------------------------

    @cached_property
    def operators(self) -> Operators:
        from chalicelib.ops.operators import Operators, load_rules, slack_group_members

        rules = load_rules()
        if not self.settings.operators:
            log.warning(
                "SHEPHERD_OPERATORS is empty: every change is refused except where "
                "policies/operators.json names operators; set them at deploy "
                "(make deploy OPERATORS=U…,S…)"
            )
        groups = None
        if any(o.startswith("S") for o in self.settings.operators) or rules:
            groups = slack_group_members(self.slack_client)
        return Operators(self.settings.operators, rules, groups)

    @cached_property
    def ops_context(self) -> OpsContext:
        from chalicelib.ops.context import OpsContext
        from chalicelib.store.replay_marks import ReplayMarks

        table = self.table

        def replay_marks(queue_arn: str) -> ReplayMarks:
            return ReplayMarks(table, queue_arn)

        s = self.settings
        return OpsContext(
            self.aws,
            self.action_log,
            replay_marks,
            preview_ttl=s.preview_ttl_s,
            own_prefix=s.own_prefix,
            accounts=s.accounts,
            timezone=s.timezone,
            snoozes=self.snoozes,
        )

    @cached_property
    def snoozes(self) -> Snoozes:
        from chalicelib.store.snoozes import Snoozes

        return Snoozes(self.table)

    @cached_property
    def ops(self) -> Ops:
        from chalicelib.ops.commands import Ops
        from chalicelib.ops.lifecycle import Lifecycle
        from chalicelib.ops.views import Views

        return Ops(
            Views(self.ops_context, self.viewers, self.runbooks),
            Lifecycle(
                self.ops_context,
                self.operators,
                approvals=self.settings.approvals,
                runbooks=self.runbooks,
            ),
        )

    @cached_property
    def runbooks(self) -> Runbooks:
        """The runbooks file, read (and checked) when Shepherd starts: see `build`."""
        from chalicelib.ops.runbook_file import load_runbooks

        return load_runbooks(self.settings.runbooks_file, self.settings.accounts)

    @cached_property
    def viewers(self) -> Viewers:
        from chalicelib.ops.viewers import Viewers

        return Viewers(self.settings.viewers, self.settings.channel, self.operators)

    def slack_handle(self, chalice_app: Any, request: Any) -> Any:
        """A request to `/slack/events`, verified and answered by bolt. One that bolt refuses (401:
        the signature does not match the secret held, and nothing was done) has the secrets read
        again once, and is verified again only if the secret changed (a rotation)."""
        response = self.slack_handler(chalice_app).handle(request)
        if response.status_code == 401 and self.slack_keys.reread():
            self._slack_handlers.clear()  # built with the old secret
            response = self.slack_handler(chalice_app).handle(request)
        return response

    def slack_handler(self, chalice_app: Any) -> Any:
        """Bolt on Chalice: signature verification first, acks within 3 s, lazy listeners re-invoke."""
        key = id(chalice_app)
        if key not in self._slack_handlers:
            from chalicelib.slack.app import bolt_handler

            self._slack_handlers[key] = bolt_handler(
                chalice_app,
                signing_secret=self.slack_secrets.signing_secret,
                token=lambda: self.slack_secrets.bot_token,
                client=self.slack_client,
                wiring=self,
                lambda_client=None if self.settings.lazy_in_process else self.aws.client("lambda"),
            )
        return self._slack_handlers[key]


WARM_CLIENTS = {
    # What each function always needs before it answers, built in Lambda's init phase instead
    # of its first invoke. The ack of `/ops` needs only the self-invoke; the lazy work builds the
    # rest when it first runs.
    "api_handler": ("lambda",),
    "on_alarm": ("dynamodb", "lambda", "cloudwatch", "logs", "sqs"),
    "on_alarm_event": ("dynamodb", "lambda", "cloudwatch", "logs", "sqs"),
    "on_alarm_action": ("dynamodb", "lambda", "cloudwatch", "logs", "sqs"),
    "on_failure": ("dynamodb", "lambda", "cloudwatch", "logs", "sqs"),
}
WARM_MODULES = {
    "api_handler": ("chalicelib.slack.app",),
    "on_alarm": ("chalicelib.alarms.delivery", "chalicelib.slack.alarm_channel"),
    "on_alarm_event": ("chalicelib.alarms.delivery", "chalicelib.slack.alarm_channel"),
    "on_alarm_action": ("chalicelib.alarms.delivery", "chalicelib.slack.alarm_channel"),
    "on_failure": ("chalicelib.alarms.delivery", "chalicelib.slack.alarm_channel"),
}


def warm(container: Container, function: str) -> list[str]:
    """Import and build, without a network call, what `function` always needs; what was done.

    Lambda runs module-level code in its init phase, once per container: the modules and boto3
    clients of the function's first request are paid there (secrets and Slack are read on the
    first request, so an unreachable SSM never fails the init).
    """
    import importlib

    done = []
    for module in WARM_MODULES.get(function, ()):
        importlib.import_module(module)
        done.append(module)
    for service in WARM_CLIENTS.get(function, ()):
        container.aws.client(service)
        done.append(f"{service} client")
    return done


def build(settings: Settings | None = None, session: boto3.Session | None = None) -> Container:
    """The container for this process: settings from the environment unless given."""
    container = Container(settings or Settings.from_env(), session)
    if container.settings.runbooks_file.exists():  # without one, nothing to import or read
        container.runbooks  # noqa: B018  a malformed file stops the start, like the accounts file
    return container
