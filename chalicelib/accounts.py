"""The member accounts Shepherd reads and changes, besides its own: `policies/accounts.json`.

    {"accounts": [{"id": "210987654321", "name": "staging",
                   "role": "arn:aws:iam::210987654321:role/shepherd-member",
                   "external_id": "3f9c2a7e5b1d4c8f0a6e", "regions": ["us-east-1", "eu-west-1"],
                   "channel": "#staging-alarms", "operators": ["S0STAGING"], "viewers": [],
                   "approvals": ["alias", "reserve-0"], "break_glass": ["U0LEAD"]}]}

With no file (or no accounts in it) Shepherd works in its own account only, as before. A
malformed file is an error when Shepherd starts, never a quiet "no accounts": an account that is
not configured is never assumed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.approvals import ApprovalRule, parse_rules
from chalicelib.errors import BadInput

ACCOUNTS_FILE = Path(__file__).resolve().parents[1] / "policies" / "accounts.json"
ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{16,1224}$")  # as the member template allows
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Shepherd's policies allow AssumeRole into this role name only (deploy/member-account.yaml).
MEMBER_ROLE = "shepherd-member"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    role: str  # the role Shepherd assumes there
    external_id: str | None = None
    regions: tuple[str, ...] = ()  # its fleet's; the first is `--account`'s default region
    channel: str | None = None  # its alarms go here (default: SHEPHERD_CHANNEL)
    operators: tuple[str, ...] = ()  # empty: SHEPHERD_OPERATORS and the rules file decide
    viewers: tuple[str, ...] = ()
    approvals: tuple[ApprovalRule, ...] = ()  # this account's changes a second operator approves
    break_glass: tuple[str, ...] = ()  # empty: SHEPHERD_BREAK_GLASS decides


@dataclass(frozen=True)
class Accounts:
    members: tuple[Account, ...] = ()

    def get(self, ref: str | None) -> Account | None:
        """A member by id or name; None for Shepherd's own account or one not configured."""
        return next((a for a in self.members if ref in (a.id, a.name)), None)

    def named(self, ref: str) -> Account:
        """`--account <name|id>`: a configured member, else a clear error."""
        found = self.get(ref)
        if found is None:
            known = ", ".join(f"`{a.name}`" for a in self.members) or "none"
            raise BadInput(f"no configured account `{ref}` (configured: {known})")
        return found

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(a.id for a in self.members)


def load_accounts(path: Path = ACCOUNTS_FILE) -> Accounts:
    if not path.exists():
        return Accounts()
    try:
        doc = json.loads(path.read_text())
        members = tuple(_account(raw) for raw in doc.get("accounts", []))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"{path.name}: {exc}") from exc
    for field in ("id", "name"):
        values = [getattr(a, field) for a in members]
        duplicated = sorted({v for v in values if values.count(v) > 1})
        if duplicated:
            raise BadInput(f"{path.name}: account {field} {', '.join(duplicated)} given twice")
    return Accounts(members)


def _account(raw: dict[str, Any]) -> Account:
    account_id, name, role = str(raw["id"]), str(raw["name"]), str(raw["role"])
    if not ACCOUNT_ID.match(account_id):
        raise ValueError(f"account id `{account_id}` is not 12 digits")
    if not NAME.match(name):
        raise ValueError(f"account name `{name}` must be lower-case letters, digits and dashes")
    matched = ROLE_ARN.match(role)
    if not matched or matched.group(1) != account_id:
        raise ValueError(f"role `{role}` is not a role ARN in account {account_id}")
    if role.rsplit("/", 1)[-1] != MEMBER_ROLE:
        raise ValueError(
            f"role `{role}`: Shepherd may assume only roles named `{MEMBER_ROLE}` "
            "(deploy/member-account.yaml creates it)"
        )
    regions = tuple(_strings(raw.get("regions", [])))
    bad = [r for r in regions if not REGION.match(r)]
    if bad:
        raise ValueError(f"`{bad[0]}` is not a region")
    external = str(raw.get("external_id") or "")
    if not EXTERNAL_ID.match(external):
        raise ValueError(
            f"account `{name}` needs an `external_id` of 16 to 1224 characters (letters, digits "
            "and +=,.@:/-), the one its member role requires (deploy/member-account.yaml)"
        )
    return Account(
        id=account_id,
        name=name,
        role=role,
        external_id=external,
        regions=regions,
        channel=str(raw["channel"]) if raw.get("channel") else None,
        operators=tuple(_strings(raw.get("operators", []))),
        viewers=tuple(_strings(raw.get("viewers", []))),
        approvals=parse_rules(
            ",".join(_strings(raw.get("approvals", []))), f"account `{name}` approvals", name
        ),
        break_glass=tuple(_strings(raw.get("break_glass", []))),
    )


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(
            "regions, operators, viewers, approvals and break_glass must be lists of strings"
        )
    return value
