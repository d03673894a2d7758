"""Sources moto lacks (account concurrency), tested against AWS's shapes with Stubber."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.aws.errors import AccessDenied
from chalicelib.aws.lambda_ import AccountConcurrency, LambdaApi


def test_account_concurrency_reads_limit_and_unreserved_pool() -> None:
    lam = boto3.client("lambda", region_name="us-east-1")
    with Stubber(lam) as stub:
        stub.add_response(
            "get_account_settings",
            {
                "AccountLimit": {
                    "ConcurrentExecutions": 1000,
                    "UnreservedConcurrentExecutions": 640,
                    "TotalCodeSize": 1,
                    "CodeSizeUnzipped": 1,
                    "CodeSizeZipped": 1,
                },
                "AccountUsage": {"TotalCodeSize": 1, "FunctionCount": 120},
            },
            {},
        )
        assert LambdaApi(lam).account_concurrency() == AccountConcurrency(1000, 640)


def test_account_concurrency_denied_raises_for_the_fanout_to_report() -> None:
    lam = boto3.client("lambda", region_name="us-east-1")
    with Stubber(lam) as stub:
        stub.add_client_error("get_account_settings", "AccessDeniedException")
        with pytest.raises(AccessDenied, match="AccessDeniedException"):
            LambdaApi(lam).account_concurrency()


def test_only_a_plain_https_url_in_a_runbook_tag_is_a_link() -> None:
    from chalicelib.diagnosis.gather import runbook_url

    good = "https://wiki.example.com/runbooks/payments?step=1&team=pay#throttling"
    assert runbook_url({"Runbook": f"  {good} "}) == good
    for bad in (
        "http://wiki.example.com/x",
        "javascript:alert(1)",
        "https://ops@evil.example/x",  # reads as ops' page, goes to evil.example
        "https://wiki.example.com/\u202eexe.txt",  # a bidi override
        "https://wіki.example.com/x",  # a Cyrillic i
        "https:///no-host",
        "https://wiki.example.com/a b",
        "https://wiki.example.com/<b>",
    ):
        assert runbook_url({"runbook": bad}) is None, bad
    assert runbook_url({"owner": good}) is None
