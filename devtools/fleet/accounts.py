"""A second account for the demo and tests: moto's `staging`, reached as Shepherd reaches it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3

from devtools.fleet.events import ACCOUNT

STAGING = "210987654321"
MEMBER_ROLE = "shepherd-member"


def member_session(session: boto3.Session | None = None, account: str = STAGING) -> boto3.Session:
    """That account as its own admin would use it (moto keys accounts by the credentials)."""
    session = session or boto3.Session()
    role = f"arn:aws:iam::{account}:role/{MEMBER_ROLE}"
    creds = session.client("sts").assume_role(RoleArn=role, RoleSessionName="demo-seed")
    c = creds["Credentials"]
    return boto3.Session(
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
        region_name=session.region_name or "us-east-1",
    )


def as_account(event: dict[str, Any], account: str = STAGING) -> dict[str, Any]:
    """A notification of the demo account's, as `account`'s CloudWatch sends it."""
    return dict(json.loads(json.dumps(event).replace(ACCOUNT, account)))


DEMO_EXTERNAL_ID = "shepherd-demo-external-id"


def accounts_file(path: Path, account: str = STAGING, name: str = "staging") -> Path:
    """A policies/accounts.json naming that account."""
    role = f"arn:aws:iam::{account}:role/{MEMBER_ROLE}"
    path.parent.mkdir(parents=True, exist_ok=True)
    member = {"id": account, "name": name, "role": role, "external_id": DEMO_EXTERNAL_ID}
    path.write_text(json.dumps({"accounts": [member]}))
    return path
