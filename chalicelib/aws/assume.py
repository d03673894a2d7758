"""Credentials in a member account: STS AssumeRole into the role it names, refreshed by botocore
shortly before they expire, never fetched before the first call that needs them.

Evidence is read in a session without a user. A change made for a Slack user is made in a session
whose `SourceIdentity` is that user (`slack-U0123ABC`) and whose tags name the action and its
approver, so the member account's CloudTrail names the human.
"""

from __future__ import annotations

from typing import Any

import boto3
import botocore.session
from botocore.credentials import DeferredRefreshableCredentials

from chalicelib.accounts import Account

DURATION_S = 3600


def assumed_session(
    sts: Any,
    account: Account,
    region: str,
    *,
    session_name: str,
    source_identity: str | None = None,
    tags: dict[str, str] | None = None,
) -> boto3.Session:
    """A boto3 session in `account` through `sts` (Shepherd's own STS client)."""

    def fetch() -> dict[str, str]:
        request: dict[str, Any] = {
            "RoleArn": account.role,
            "RoleSessionName": session_name[:64],
            "DurationSeconds": DURATION_S,
        }
        if account.external_id:
            request["ExternalId"] = account.external_id
        if source_identity:
            request["SourceIdentity"] = source_identity
        if tags:
            request["Tags"] = [{"Key": k, "Value": v[:256]} for k, v in tags.items()]
        credentials = sts.assume_role(**request)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    core = botocore.session.get_session()
    loader = getattr(sts, "_loader", None)  # the service models Shepherd's own session has read
    if loader is not None:
        core.register_component("data_loader", loader)  # not read and parsed again per account
    core._credentials = DeferredRefreshableCredentials(  # type: ignore[attr-defined]
        refresh_using=fetch, method="sts-assume-role"
    )
    return boto3.Session(botocore_session=core, region_name=region)


def slack_identity(user: str) -> str:
    """The SourceIdentity a Slack user's changes carry (2–64 of `[\\w+=,.@-]`)."""
    return f"slack-{user}"[:64]
