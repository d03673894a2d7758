"""Clients keyed by (account, region, service), built on first use; nothing touches the network on import."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from chalicelib.accounts import Account
    from chalicelib.aws.cloudwatch import CloudWatchApi, MuteRules
    from chalicelib.aws.dynamodb import DynamoTable
    from chalicelib.aws.iam import IamApi
    from chalicelib.aws.lambda_ import LambdaApi
    from chalicelib.aws.logs import LogsApi
    from chalicelib.aws.secrets import SecretStore
    from chalicelib.aws.sqs import SqsApi

# Short timeouts and few retries: a diagnosis must arrive while the alarm is fresh, and a source
# that does not answer becomes "could not check", not a stalled invocation.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"max_attempts": 3, "mode": "standard"},
    max_pool_connections=32,
)
# For calls that must never be sent twice (an async Invoke: Lambda runs each one it accepts, and a
# lost answer retried by botocore would run the same payload again): one attempt, no retry.
ONCE_CONFIG = CLIENT_CONFIG.merge(Config(retries={"total_max_attempts": 1, "mode": "standard"}))

HOME = ""  # the account Shepherd runs in: its own credentials
T = TypeVar("T")
SessionFor = Callable[[str], boto3.Session]  # account id -> a session with credentials there


class Aws:
    """One boto3 session per account and its clients, one per (account, region, service).

    Shared across the evidence threads. `account` is `HOME` for Shepherd's own account; another
    account's session comes from `session_for` (the place AssumeRole plugs in).
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        region: str | None = None,
        session_for: SessionFor | None = None,
        members: frozenset[str] = frozenset(),
    ) -> None:
        self.session = session or boto3.Session()
        self.region = region or self.session.region_name or "us-east-1"
        self.session_for = session_for
        self.members = members  # configured member account ids (chalicelib/accounts.py)
        self._sessions: dict[str, boto3.Session] = {HOME: self.session}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.RLock()  # a member session is made under it, with a home client
        self._shared: dict[Any, tuple[float, Any]] = {}
        self._secrets: SecretStore | None = None

    def client(
        self, service: str, region: str | None = None, account: str = HOME, *, once: bool = False
    ) -> Any:
        """The client for `service` there; `once`: a separate client that never retries."""
        key = (account, region or self.region, service + ("#once" if once else ""))
        with self._lock:
            if key not in self._clients:
                session: Any = self._session(account)  # the stubs know services by literal only
                self._clients[key] = session.client(
                    service, region_name=key[1], config=ONCE_CONFIG if once else CLIENT_CONFIG
                )
            return self._clients[key]

    def acting(
        self, member: Account, user: str, action_id: str, proposer: str | None = None
    ) -> Aws:
        """Shepherd in `member` for one change: its session names the Slack user who runs it
        (SourceIdentity `slack-<user>`) and carries the action, that user (`approver`) and whoever
        proposed it (`proposer`) as session tags."""
        from chalicelib.aws.assume import assumed_session, slack_identity

        home = self.client("sts")

        def session_for(account: str) -> boto3.Session:
            return assumed_session(
                home,
                member,
                self.region,
                session_name=f"shepherd-{action_id}",
                source_identity=slack_identity(user),
                tags={
                    "shepherd-action": action_id,
                    "approver": user,
                    **({"proposer": proposer} if proposer else {}),
                },
            )

        acting = Aws(self.session, self.region, session_for, frozenset({member.id}))
        acting._clients.update({k: c for k, c in self._clients.items() if k[0] == HOME})
        return acting

    def knows_home(self, invoked_arn: str | None) -> None:
        """Shepherd's own account from the ARN Lambda invoked it by: no STS call is needed (a
        function in a VPC without an STS endpoint could not make one)."""
        parts = (invoked_arn or "").split(":")
        if len(parts) > 4 and parts[4].isdigit():
            with self._lock:
                self._shared[("home-account",)] = (time.monotonic(), parts[4])

    def home_account(self) -> str:
        """Shepherd's own account id: from the invoked ARN, else STS GetCallerIdentity, once per
        container."""
        return self.shared(
            ("home-account",),
            float("inf"),
            lambda: str(self.client("sts").get_caller_identity()["Account"]),
        )

    def knows(self, account: str | None) -> bool:
        """Whether `account` is Shepherd's own or a configured member: anything else, a signal
        that names no account included, is never read as Shepherd's own."""
        if not account:
            return False
        return account in self.members or account == self.home_account()

    def key(self, account: str | None) -> str:
        """The account to call for a resource of `account`: a configured member's id, else
        Shepherd's own (HOME): an account that is not configured is never assumed."""
        return account if account and account in self.members else HOME

    def shared(self, key: Any, ttl_s: float, read: Callable[[], T]) -> T:
        """A read many alarms ask in the same minutes (the account's concurrency, a function's
        configuration), made once per `ttl_s` in this container; failures are not kept."""
        now = time.monotonic()
        with self._lock:
            kept = self._shared.get(key)
        if kept is not None and now - kept[0] < ttl_s:
            return cast(T, kept[1])
        value = read()
        with self._lock:
            self._shared[key] = (now, value)
        return value

    def _session(self, account: str) -> boto3.Session:
        if account not in self._sessions:
            if self.session_for is None:
                raise LookupError(f"no credentials for account {account}: it is not configured")
            self._sessions[account] = self.session_for(account)
        return self._sessions[account]

    # --- the domain facades, one per service ---------------------------------------------

    def lambda_(self, region: str | None = None, account: str = HOME) -> LambdaApi:
        from chalicelib.aws.lambda_ import LambdaApi

        return LambdaApi(self.client("lambda", region, account))

    def invoker(self, region: str | None = None, account: str = HOME) -> LambdaApi:
        """Lambda for async invokes: one attempt each (a replay's marks handle what is unsure)."""
        from chalicelib.aws.lambda_ import LambdaApi

        return LambdaApi(self.client("lambda", region, account, once=True))

    def sqs(self, region: str | None = None, account: str = HOME) -> SqsApi:
        from chalicelib.aws.sqs import SqsApi

        return SqsApi(self.client("sqs", region, account))

    def cloudwatch(self, region: str | None = None, account: str = HOME) -> CloudWatchApi:
        from chalicelib.aws.cloudwatch import CloudWatchApi

        return CloudWatchApi(self.client("cloudwatch", region, account))

    def mute_rules(self, region: str | None = None, account: str = HOME) -> MuteRules:
        from chalicelib.aws.cloudwatch import MuteRules

        return MuteRules(self.client("cloudwatch", region, account))

    def logs(self, region: str | None = None, account: str = HOME) -> LogsApi:
        from chalicelib.aws.logs import LogsApi

        return LogsApi(self.client("logs", region, account))

    def iam(self, account: str = HOME) -> IamApi:
        from chalicelib.aws.iam import IamApi

        return IamApi(self.client("iam", None, account))

    def table(self, name: str) -> DynamoTable:
        from chalicelib.aws.dynamodb import DynamoTable

        return DynamoTable(self.client("dynamodb"), name)

    def secrets(self) -> SecretStore:
        """Secret values by name (SSM parameters in one round trip, Secrets Manager entries each),
        kept for their max age; one store per container."""
        from chalicelib.aws.secrets import SecretStore

        with self._lock:
            if self._secrets is None:
                self._secrets = SecretStore(self.client)
            return self._secrets
