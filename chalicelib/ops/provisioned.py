"""Provisioned concurrency of an alias or version (moto does not implement these calls)."""

from __future__ import annotations

from typing import Any

from chalicelib.aws import error_code


class Provisioned:
    """Read and set provisioned concurrency on one qualifier (alias or published version)."""

    def __init__(self, lam: Any) -> None:
        self.lam = lam

    def get(self, function: str, qualifier: str) -> dict[str, Any] | None:
        """Requested and allocated executions and status; None when none is configured."""
        try:
            config = self.lam.get_provisioned_concurrency_config(
                FunctionName=function, Qualifier=qualifier
            )
        except Exception as exc:
            if error_code(exc) == "ProvisionedConcurrencyConfigNotFoundException":
                return None
            raise
        return {
            "requested": int(config.get("RequestedProvisionedConcurrentExecutions", 0)),
            "allocated": int(config.get("AllocatedProvisionedConcurrentExecutions", 0)),
            "status": config.get("Status"),
            "reason": config.get("StatusReason"),
        }

    def put(self, function: str, qualifier: str, executions: int) -> dict[str, Any]:
        config = self.lam.put_provisioned_concurrency_config(
            FunctionName=function,
            Qualifier=qualifier,
            ProvisionedConcurrentExecutions=executions,
        )
        return {
            "requested": int(config.get("RequestedProvisionedConcurrentExecutions", executions)),
            "allocated": int(config.get("AllocatedProvisionedConcurrentExecutions", 0)),
            "status": config.get("Status"),
            "reason": config.get("StatusReason"),
        }

    def delete(self, function: str, qualifier: str) -> None:
        self.lam.delete_provisioned_concurrency_config(FunctionName=function, Qualifier=qualifier)

    def all(self, function: str) -> list[dict[str, Any]]:
        """Every qualifier of the function that has provisioned concurrency."""
        out: list[dict[str, Any]] = []
        paginator = self.lam.get_paginator("list_provisioned_concurrency_configs")
        for page in paginator.paginate(FunctionName=function):
            for c in page.get("ProvisionedConcurrencyConfigs", []):
                out.append(
                    {
                        "qualifier": c["FunctionArn"].rsplit(":", 1)[-1],
                        "requested": int(c.get("RequestedProvisionedConcurrentExecutions", 0)),
                        "allocated": int(c.get("AllocatedProvisionedConcurrentExecutions", 0)),
                        "status": c.get("Status"),
                    }
                )
        return out
