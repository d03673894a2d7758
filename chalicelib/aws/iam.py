"""IAM: the account's authorization details, a page at a time (the audit's source)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from chalicelib.aws.errors import calls

if TYPE_CHECKING:
    from mypy_boto3_iam import IAMClient

LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
POLICIES_AND_GROUPS = ["LocalManagedPolicy", "AWSManagedPolicy", "Group"]
PRINCIPALS = ["Role", "User"]
PAGE = 1000  # IAM's largest page: a 30,000-role account in 38 calls, not 380


class IamApi:
    def __init__(self, client: IAMClient) -> None:
        self.client = client

    def details(self) -> AccountDetails:
        """The account's GetAccountAuthorizationDetails in the order the audit reads it."""
        return AccountDetails(self)

    def items(self, entities: list[str]) -> Iterator[tuple[str, Any]]:
        """(list, item) for every entity of these types, every page (paged by Marker). A page is
        let go once its items are taken."""
        marker: str | None = None
        while True:
            page = self._page(entities, marker)
            for key in LISTS:
                for item in page.get(key, ()):
                    yield key, item
            marker = page.get("Marker") if page.get("IsTruncated") else None
            if not marker:
                return

    @calls("iam")
    def _page(self, entities: list[str], marker: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"Filter": entities, "MaxItems": PAGE}
        if marker:
            kwargs["Marker"] = marker
        return dict(self.client.get_account_authorization_details(**kwargs))


class AccountDetails:
    """The policies and groups first, then the principals: two listings with Filter."""

    def __init__(self, iam: IamApi) -> None:
        self.iam = iam

    def first(self) -> Iterator[tuple[str, Any]]:
        return self.iam.items(POLICIES_AND_GROUPS)

    def then(self) -> Iterator[tuple[str, Any]]:
        return self.iam.items(PRINCIPALS)
