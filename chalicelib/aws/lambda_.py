"""Lambda: functions, aliases, versions, concurrency, event sources, async invokes.

Provisioned concurrency and account settings are calls moto lacks: they are tested with
botocore's Stubber (tests/unit/test_aws_adapters.py) and answered by devtools/aws_gaps.py locally.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import NotFound, calls
from chalicelib.aws.times import aws_time

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient


@dataclass(frozen=True)
class FunctionConfig:
    name: str
    arn: str
    runtime: str | None
    timeout_s: int | None
    memory_mb: int | None
    last_modified: datetime | None
    log_group: str | None
    dlq_arn: str | None
    revision: str | None = None  # RevisionId: an update with it is refused if this moved
    architecture: str = "x86_64"
    version: str = "$LATEST"
    updating: bool = False  # LastUpdateStatus InProgress: its RevisionId moves when it completes


@dataclass(frozen=True)
class AliasState:
    """Where an alias points: its main version, canary weights, and the revision to update."""

    version: str
    weights: dict[str, float] = field(default_factory=dict)
    revision: str | None = None


@dataclass(frozen=True)
class PublishedVersion:
    version: str
    published: datetime | None
    description: str = ""


@dataclass(frozen=True)
class AccountConcurrency:
    limit: int | None
    unreserved: int | None


@dataclass(frozen=True)
class EventSourceMapping:
    uuid: str
    source_arn: str
    function_arn: str
    state: str
    last_result: str = ""  # LastProcessingResult: "OK", "No records processed", "PROBLEM: …"
    reason: str = ""  # StateTransitionReason: why it is in its state


@dataclass(frozen=True)
class ProvisionedConfig:
    qualifier: str
    requested: int
    allocated: int
    status: str | None
    reason: str | None = None


class LambdaApi:
    def __init__(self, client: LambdaClient) -> None:
        self.client = client

    @calls("lambda")
    def function(self, name: str) -> FunctionConfig:
        # GetFunctionConfiguration, not GetFunction: the same fields without a code download URL,
        # so no policy needs to grant lambda:GetFunction.
        return _function_config(self.client.get_function_configuration(FunctionName=name), name)

    @calls("lambda")
    def tags(self, arn: str) -> dict[str, str]:
        """The function's tags (ListTags takes its ARN, not its name)."""
        return dict(self.client.list_tags(Resource=arn).get("Tags") or {})

    @calls("lambda")
    def configure(
        self,
        function: str,
        revision: str | None,
        *,
        memory_mb: int | None = None,
        timeout_s: int | None = None,
    ) -> FunctionConfig:
        """Change `$LATEST`'s memory and/or timeout; with `revision`, refused
        (PreconditionFailed) if the function changed since it was read."""
        kwargs: dict[str, Any] = {"FunctionName": function}
        if memory_mb is not None:
            kwargs["MemorySize"] = memory_mb
        if timeout_s is not None:
            kwargs["Timeout"] = timeout_s
        if revision:
            kwargs["RevisionId"] = revision
        return _function_config(self.client.update_function_configuration(**kwargs), function)

    @calls("lambda")
    def settled(self, config: FunctionConfig, within_s: float = 20.0) -> FunctionConfig:
        """`config` as it settles: while an update is in progress (`LastUpdateStatus` InProgress:
        Lambda refuses another update, and moves the RevisionId again when it completes), read
        again each second, for at most `within_s`. A failed last update is no reason to wait: a
        new one is how it is fixed."""
        until = time.monotonic() + within_s
        while config.updating and time.monotonic() < until:
            time.sleep(1.0)
            config = self.function(config.name)
        return config

    @calls("lambda")
    def alias(self, function: str, alias: str) -> AliasState:
        return alias_state(self.client.get_alias(FunctionName=function, Name=alias))

    @calls("lambda")
    def aliases(self, function: str) -> dict[str, str]:
        """Alias name → the version it points to."""
        out: dict[str, str] = {}
        for page in self.client.get_paginator("list_aliases").paginate(FunctionName=function):
            out.update({a["Name"]: a["FunctionVersion"] for a in page.get("Aliases", [])})
        return out

    @calls("lambda")
    def move_alias(
        self,
        function: str,
        alias: str,
        version: str,
        weights: dict[str, float],
        revision: str | None,
    ) -> AliasState:
        """Point an alias; with `revision`, refused if someone moved it since it was read."""
        kwargs: dict[str, Any] = {
            "FunctionName": function,
            "Name": alias,
            "FunctionVersion": version,
            "RoutingConfig": {"AdditionalVersionWeights": weights},
        }
        if revision:
            kwargs["RevisionId"] = revision
        return alias_state(self.client.update_alias(**kwargs))

    @calls("lambda")
    def versions(self, function: str) -> list[PublishedVersion]:
        """Every published version (not $LATEST), oldest first."""
        out: list[PublishedVersion] = []
        paginator = self.client.get_paginator("list_versions_by_function")
        for page in paginator.paginate(FunctionName=function):
            for v in page.get("Versions", []):
                if v["Version"] != "$LATEST":
                    out.append(
                        PublishedVersion(
                            v["Version"], aws_time(v.get("LastModified")), v.get("Description", "")
                        )
                    )
        return out

    @calls("lambda")
    def reserved(self, function: str) -> int | None:
        """The function's reserved concurrency; None when it shares the unreserved pool."""
        value = self.client.get_function_concurrency(FunctionName=function).get(
            "ReservedConcurrentExecutions"
        )
        return None if value is None else int(value)

    @calls("lambda")
    def set_reserved(self, function: str, executions: int | None) -> None:
        if executions is None:
            self.client.delete_function_concurrency(FunctionName=function)
        else:
            self.client.put_function_concurrency(
                FunctionName=function, ReservedConcurrentExecutions=executions
            )

    @calls("lambda")
    def account_concurrency(self) -> AccountConcurrency:
        """The account's limit and unreserved pool (GetAccountSettings: moto lacks it)."""
        limits: Any = self.client.get_account_settings().get("AccountLimit", {})
        return AccountConcurrency(
            limits.get("ConcurrentExecutions"), limits.get("UnreservedConcurrentExecutions")
        )

    @calls("lambda")
    def event_source_mappings(
        self, *, function: str | None = None, source_arn: str | None = None
    ) -> list[EventSourceMapping]:
        kwargs: dict[str, Any] = {}
        if function:
            kwargs["FunctionName"] = function
        if source_arn:
            kwargs["EventSourceArn"] = source_arn
        out: list[EventSourceMapping] = []
        paginator = self.client.get_paginator("list_event_source_mappings")
        for page in paginator.paginate(**kwargs):
            for m in page.get("EventSourceMappings", []):
                out.append(
                    EventSourceMapping(
                        m.get("UUID", ""),
                        m.get("EventSourceArn", ""),
                        m.get("FunctionArn", ""),
                        m.get("State", ""),
                        m.get("LastProcessingResult", ""),
                        m.get("StateTransitionReason", ""),
                    )
                )
        return out

    def on_failure_destination(self, function: str) -> str | None:
        """The async on-failure destination's ARN; None without an async invoke config."""
        try:
            config = self._event_invoke_config(function)
        except NotFound:
            return None
        on_failure: Any = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        destination = on_failure.get("Destination")
        return str(destination) if destination else None

    @calls("lambda")
    def _event_invoke_config(self, function: str) -> Any:
        return self.client.get_function_event_invoke_config(FunctionName=function)

    @calls("lambda")
    def dead_letter_functions(self, queue_arn: str) -> list[str]:
        """The functions whose async DeadLetterConfig sends failed events to this queue."""
        names = []
        for page in self.client.get_paginator("list_functions").paginate():
            for f in page.get("Functions", []):
                if (f.get("DeadLetterConfig") or {}).get("TargetArn") == queue_arn:
                    names.append(str(f["FunctionName"]))
        return names

    @calls("lambda")
    def invoke_async(self, function: str, payload: Any) -> int:
        """Invoke with `InvocationType=Event`; the status code (202 when Lambda queued it)."""
        response = self.client.invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        return int(response.get("StatusCode", 0))

    # --- provisioned concurrency (moto lacks these calls) ------------------------------

    def provisioned(self, function: str, qualifier: str) -> ProvisionedConfig | None:
        """Requested and allocated executions and status; None when none is configured."""
        try:
            config = self._provisioned(function, qualifier)
        except NotFound:
            return None
        return _provisioned_config(qualifier, config)

    @calls("lambda")
    def _provisioned(self, function: str, qualifier: str) -> Any:
        return self.client.get_provisioned_concurrency_config(
            FunctionName=function, Qualifier=qualifier
        )

    @calls("lambda")
    def provision(self, function: str, qualifier: str, executions: int) -> ProvisionedConfig:
        config = self.client.put_provisioned_concurrency_config(
            FunctionName=function, Qualifier=qualifier, ProvisionedConcurrentExecutions=executions
        )
        return _provisioned_config(qualifier, config, requested=executions)

    @calls("lambda")
    def unprovision(self, function: str, qualifier: str) -> None:
        self.client.delete_provisioned_concurrency_config(
            FunctionName=function, Qualifier=qualifier
        )

    @calls("lambda")
    def all_provisioned(self, function: str) -> list[ProvisionedConfig]:
        """Every qualifier of the function that has provisioned concurrency."""
        out: list[ProvisionedConfig] = []
        paginator = self.client.get_paginator("list_provisioned_concurrency_configs")
        for page in paginator.paginate(FunctionName=function):
            for c in page.get("ProvisionedConcurrencyConfigs", []):
                out.append(_provisioned_config(c["FunctionArn"].rsplit(":", 1)[-1], c))
        return out


def alias_state(alias: Any) -> AliasState:
    """An alias (GetAlias/UpdateAlias response) as Shepherd records it."""
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return AliasState(
        alias["FunctionVersion"],
        {str(k): float(v) for k, v in weights.items()},
        alias.get("RevisionId"),
    )


def _provisioned_config(qualifier: str, c: Any, requested: int = 0) -> ProvisionedConfig:
    return ProvisionedConfig(
        qualifier=qualifier,
        requested=int(c.get("RequestedProvisionedConcurrentExecutions", requested)),
        allocated=int(c.get("AllocatedProvisionedConcurrentExecutions", 0)),
        status=c.get("Status"),
        reason=c.get("StatusReason"),
    )


def _function_config(c: Any, name: str) -> FunctionConfig:
    return FunctionConfig(
        name=c.get("FunctionName", name),
        arn=c.get("FunctionArn", ""),
        runtime=c.get("Runtime"),
        timeout_s=c.get("Timeout"),
        memory_mb=c.get("MemorySize"),
        last_modified=aws_time(c.get("LastModified")),
        log_group=(c.get("LoggingConfig") or {}).get("LogGroup"),
        dlq_arn=(c.get("DeadLetterConfig") or {}).get("TargetArn"),
        revision=c.get("RevisionId"),
        architecture=(c.get("Architectures") or ["x86_64"])[0],
        version=c.get("Version", "$LATEST"),
        updating=c.get("LastUpdateStatus") == "InProgress",
    )
