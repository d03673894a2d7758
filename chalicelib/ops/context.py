"""What every action kind and view reads and writes through: AWS, the action log, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from chalicelib.accounts import Accounts
from chalicelib.aws.cloudwatch import CloudWatchApi, MuteRules
from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.session import Aws
from chalicelib.aws.sqs import SqsApi
from chalicelib.store.actions import ActionLog
from chalicelib.store.replay_marks import ReplayMarks
from chalicelib.store.snoozes import Snoozes

REDRIVE_BUDGET = 240.0  # seconds a replay may run in one invocation (api_handler timeout is 300)
PREVIEW_TTL = 900.0  # seconds a preview may be confirmed in


@dataclass
class OpsContext:
    aws: Aws
    log: ActionLog
    replay_marks: Callable[[str], ReplayMarks]  # queue ARN -> its marks
    clock: Callable[[], float] = time.monotonic
    redrive_budget: float = REDRIVE_BUDGET
    preview_ttl: float = PREVIEW_TTL
    own_prefix: str | None = None  # `shepherd-prod-`: the deployed names of Shepherd's functions
    accounts: Accounts = field(default_factory=Accounts)
    account: str = ""  # the member account this context reads and changes ("": Shepherd's own)
    region: str | None = None  # None: Shepherd's own
    timezone: str = "UTC"  # where "tomorrow 09:00" is
    snoozes: Snoozes | None = None  # Shepherd's own record of its snoozes (the alarm path reads it)

    def scoped(self, account: str | None, region: str | None) -> OpsContext:
        """This context in a configured member account (by name or id; in its first listed region
        unless one is given) and/or another region."""
        member = self.accounts.named(account) if account else None
        if member is not None and not region and member.regions:
            region = member.regions[0]  # where its fleet is, as the accounts file says
        return replace(self, account=member.id if member else "", region=region or None)

    def acting(self, user: str, action_id: str, proposer: str | None = None) -> OpsContext:
        """For making a change: in a member account, a session that names the Slack user who runs
        it (SourceIdentity) and the action and both people (session tags); Shepherd's own role at
        home."""
        if not self.account:
            return self
        acting = self.aws.acting(self.accounts.named(self.account), user, action_id, proposer)
        return replace(self, aws=acting)

    def is_own(self, function: str) -> bool:
        name = function.split(":function:", 1)[-1].split(":", 1)[0]
        return bool(self.own_prefix) and name.startswith(self.own_prefix or "")

    @property
    def lam(self) -> LambdaApi:
        return self.aws.lambda_(self.region, self.account)

    @property
    def invoker(self) -> LambdaApi:
        """Lambda for replays: async invokes sent once, never retried by botocore."""
        return self.aws.invoker(self.region, self.account)

    @property
    def sqs(self) -> SqsApi:
        return self.aws.sqs(self.region, self.account)

    @property
    def cloudwatch(self) -> CloudWatchApi:
        return self.aws.cloudwatch(self.region, self.account)

    @property
    def mute_rules(self) -> MuteRules:
        return self.aws.mute_rules(self.region, self.account)
