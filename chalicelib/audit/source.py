"""Where the authorization details come from: the account (every page) or a file of that shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.errors import BadInput

LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


def fetch(iam: Any) -> dict[str, Any]:
    """GetAccountAuthorizationDetails, every page merged (the response is paged by Marker)."""
    merged: dict[str, Any] = {key: [] for key in LISTS}
    for page in iam.get_paginator("get_account_authorization_details").paginate():
        for key in LISTS:
            merged[key].extend(page.get(key, []))
    return merged


def read(path: Path) -> dict[str, Any]:
    """A file as `aws iam get-account-authorization-details` writes it; BadInput says what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BadInput(f"{path} is not UTF-8 text: {exc}") from exc
    try:
        details = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file ends early: truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise BadInput(f"{path} is not valid JSON at line {exc.lineno}: {exc.msg}{hint}") from exc
    if details.get("IsTruncated") if isinstance(details, dict) else False:
        raise BadInput(
            f"{path} is one page of a truncated listing (IsTruncated is true): "
            "fetch every page, e.g. with the AWS CLI's default pagination"
        )
    return details  # type: ignore[no-any-return]
