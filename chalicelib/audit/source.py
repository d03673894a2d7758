"""Authorization details from a file of the shape `aws iam get-account-authorization-details` writes.

From the account, they come through chalicelib/aws/iam.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.errors import BadInput


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
