"""Settings from the environment (PRODUCT.md §8); secrets resolved lazily, never logged."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from chalicelib.accounts import ACCOUNTS_FILE, Accounts, load_accounts
from chalicelib.approvals import HOME, Approvals, parse_rules
from chalicelib.errors import BadInput

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
RUNBOOKS_FILE = Path(__file__).resolve().parents[1] / "policies" / "runbooks.json"


@dataclass(frozen=True)
class Settings:
    channel: str = "#ops-alarms"
    table: str = "shepherd-state"
    slack_api_url: str = DEFAULT_SLACK_API_URL
    operators: tuple[str, ...] = ()
    alarm_topic: str = "shepherd-alarms"
    failure_queue: str = "shepherd-failures"
    dead_letter_queue: str = "shepherd-dlq"
    region: str = "us-east-1"
    # A storm: this many alarms in one account within the window become one summary message.
    storm_threshold: int = 5
    storm_window_s: float = 120.0
    storm_redraw_s: float = 3.0
    # A preview not confirmed within this many seconds is refused at Confirm (a fresh one offered).
    preview_ttl_s: float = 900.0
    # Where `snooze … tomorrow` ends at 09:00 (an IANA zone).
    timezone: str = "UTC"
    # Reminders in an unacknowledged alarm's thread: after this many minutes (0: never), at most
    # this many times; `@here` only for alarms whose names match one of these globs.
    remind_after_min: float = 30.0
    remind_max: int = 3
    remind_here: tuple[str, ...] = ()
    # Who may see data (audit findings, DLQ bodies, log lines): channel and user/group ids;
    # empty means the alarm channel and the operators.
    viewers: tuple[str, ...] = ()
    # The deployed names of Shepherd's own functions start with this (`shepherd-prod-`).
    own_prefix: str | None = None
    # Changes a second operator must approve, and who may act alone (chalicelib/approvals.py).
    approvals: Approvals = field(default_factory=Approvals)
    # Member accounts (policies/accounts.json); none: Shepherd's own account only.
    accounts: Accounts = field(default_factory=Accounts)
    # Runbooks (chalicelib/ops/runbooks.py), read and checked when Shepherd starts.
    runbooks_file: Path = RUNBOOKS_FILE
    # Lazy listeners run in this process instead of a self-invoke (tests, `chalice local`).
    lazy_in_process: bool = False
    # The Chalice function this process serves (`api_handler`, `on_alarm`…), when in Lambda.
    function: str | None = None
    # Secret values or the names of SSM parameters / Secrets Manager entries that hold them.
    bot_token: str | None = field(default=None, repr=False)
    bot_token_param: str | None = None
    signing_secret: str | None = field(default=None, repr=False)
    signing_secret_param: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        operators = _ids(env.get("SHEPHERD_OPERATORS", ""))
        accounts = load_accounts(Path(env.get("SHEPHERD_ACCOUNTS_FILE", str(ACCOUNTS_FILE))))
        rules = parse_rules(env.get("SHEPHERD_APPROVALS", ""), "SHEPHERD_APPROVALS")
        runbooks = Path(env.get("SHEPHERD_RUNBOOKS_FILE") or RUNBOOKS_FILE)
        if env.get("SHEPHERD_RUNBOOKS_FILE") and not runbooks.exists():
            raise BadInput(f"SHEPHERD_RUNBOOKS_FILE: no file {runbooks}")
        for rule in rules:
            if rule.account not in (None, HOME) and accounts.get(rule.account) is None:
                known = ", ".join(a.name for a in accounts.members) or "none"
                raise BadInput(
                    f"SHEPHERD_APPROVALS: `{rule.account}` is not a configured account "
                    f"(configured: {known}; `home` is Shepherd's own)"
                )
        return cls(
            accounts=accounts,
            runbooks_file=runbooks,
            preview_ttl_s=float(env.get("SHEPHERD_PREVIEW_TTL", cls.preview_ttl_s)),
            viewers=_ids(env.get("SHEPHERD_VIEWERS", "")),
            approvals=Approvals(rules, _ids(env.get("SHEPHERD_BREAK_GLASS", ""))),
            timezone=env.get("SHEPHERD_TIMEZONE", cls.timezone),
            remind_after_min=float(env.get("SHEPHERD_REMIND_AFTER", cls.remind_after_min)),
            remind_max=int(env.get("SHEPHERD_REMIND_MAX", cls.remind_max)),
            remind_here=_ids(env.get("SHEPHERD_REMIND_HERE", "")),
            own_prefix=env.get("SHEPHERD_OWN_PREFIX")
            or _own_prefix(env.get("AWS_LAMBDA_FUNCTION_NAME")),
            channel=env.get("SHEPHERD_CHANNEL", cls.channel),
            table=env.get("SHEPHERD_TABLE", cls.table),
            slack_api_url=env.get("SLACK_API_URL", DEFAULT_SLACK_API_URL),
            operators=operators,
            alarm_topic=env.get("SHEPHERD_ALARM_TOPIC", cls.alarm_topic),
            failure_queue=env.get("SHEPHERD_FAILURE_QUEUE", cls.failure_queue),
            dead_letter_queue=env.get("SHEPHERD_DLQ", cls.dead_letter_queue),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or cls.region,
            storm_threshold=int(env.get("SHEPHERD_STORM_THRESHOLD", cls.storm_threshold)),
            storm_window_s=float(env.get("SHEPHERD_STORM_WINDOW", cls.storm_window_s)),
            storm_redraw_s=float(env.get("SHEPHERD_STORM_REDRAW", cls.storm_redraw_s)),
            lazy_in_process=env.get("SHEPHERD_LAZY_IN_PROCESS") == "1"
            or env.get("AWS_CHALICE_CLI_MODE") == "true",
            function=_chalice_function(env.get("AWS_LAMBDA_FUNCTION_NAME")),
            bot_token=env.get("SLACK_BOT_TOKEN"),
            bot_token_param=env.get("SLACK_BOT_TOKEN_PARAM"),
            signing_secret=env.get("SLACK_SIGNING_SECRET"),
            signing_secret_param=env.get("SLACK_SIGNING_SECRET_PARAM"),
        )

    def slack_secrets(self, fetch: Callable[[list[str]], dict[str, str]]) -> SlackSecrets:
        """The bot token and signing secret: local values, else one fetch for whatever is stored."""
        stored = [
            param
            for value, param in (
                (self.bot_token, self.bot_token_param),
                (self.signing_secret, self.signing_secret_param),
            )
            if not value and param
        ]
        fetched = fetch(stored) if stored else {}
        return SlackSecrets(
            bot_token=_resolve("SLACK_BOT_TOKEN", self.bot_token, self.bot_token_param, fetched),
            signing_secret=_resolve(
                "SLACK_SIGNING_SECRET", self.signing_secret, self.signing_secret_param, fetched
            ),
        )


def _ids(listed: str) -> tuple[str, ...]:
    return tuple(i.strip() for i in listed.split(",") if i.strip())


def _own_prefix(lambda_name: str | None) -> str | None:
    """`shepherd-prod-` from `shepherd-prod-api_handler`: what all of Shepherd's names start with."""
    return lambda_name.rsplit("-", 1)[0] + "-" if lambda_name and "-" in lambda_name else None


def _chalice_function(lambda_name: str | None) -> str | None:
    """`api_handler` from `shepherd-prod-api_handler` (Chalice names functions app-stage-name)."""
    return lambda_name.rsplit("-", 1)[-1] if lambda_name else None


@dataclass(frozen=True)
class SlackSecrets:
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)


def _resolve(name: str, value: str | None, param: str | None, fetched: Mapping[str, str]) -> str:
    if value:
        return value
    if param:
        return fetched[param]
    raise RuntimeError(f"{name} (or {name}_PARAM) is not set")
