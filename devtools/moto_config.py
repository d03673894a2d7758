"""Settings of a running moto server that the local tools rely on."""

from __future__ import annotations

import json
import urllib.request


def lambda_without_docker(endpoint: str) -> None:
    """Answer Lambda Invoke without Docker (an async invoke is accepted, as Lambda would)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        response.read()
