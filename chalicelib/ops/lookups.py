"""The reads every command starts with, as usage errors when the name is wrong."""

from __future__ import annotations

from chalicelib import markup
from chalicelib.aws.errors import NotFound
from chalicelib.aws.lambda_ import AliasState, FunctionConfig, LambdaApi
from chalicelib.aws.sqs import Queue, SqsApi
from chalicelib.errors import UsageError


def function(lam: LambdaApi, name: str) -> FunctionConfig:
    try:
        return lam.function(name)
    except NotFound as exc:
        raise UsageError(f"no function {markup.code(name)} {where(lam.client)}") from exc


def where(client: object) -> str:
    """Where a name was looked for, and how to look elsewhere."""
    region = getattr(getattr(client, "meta", None), "region_name", None) or "this region"
    return (
        f"in {region} of this account (another region: `--region <region>`; a member account: "
        "`--account <name>`)"
    )


def alias(lam: LambdaApi, function: str, name: str) -> AliasState:
    try:
        return lam.alias(function, name)
    except NotFound as exc:
        raise UsageError(f"*{function}* has no alias {markup.code(name)}") from exc


def queue(sqs: SqsApi, name: str) -> Queue:
    found = sqs.queue(name)
    if found is None:
        raise UsageError(f"no queue {markup.code(name)} {where(sqs.client)}")
    return found


def published(lam: LambdaApi, function: str, version: str) -> str:
    if version not in {v.version for v in lam.versions(function)}:
        raise UsageError(f"*{function}* has no published version {version}")
    return version
