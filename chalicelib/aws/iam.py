"""IAM: the account's authorization details, every page merged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import calls

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


class IamApi:
    def __init__(self, client: IAMClient) -> None:
        self.client = client

    @calls("iam")
    def authorization_details(self) -> dict[str, Any]:
        """GetAccountAuthorizationDetails, every page merged (the response is paged by Marker)."""
        merged: dict[str, Any] = {key: [] for key in LISTS}
        for page in self.client.get_paginator("get_account_authorization_details").paginate():
            for key in LISTS:
                merged[key].extend(page.get(key, []))
        return merged
