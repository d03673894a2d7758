from __future__ import annotations

import pytest

from chalicelib.diagnosis.logs import error_signatures, parse_report, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("creds AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
        ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("password=hunter2;", "hunter2"),
        ('{"token": "abc123def456"}', "abc123def456"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMTIz", "eyJhbGci"),
        ("slack xoxb-1234567890-abcdefghij", "xoxb-1234567890"),
        ("postgres://app:s3cr3t@db.internal/orders", "s3cr3t"),
        ("paid with 4111 1111 1111 1111 today", "4111 1111 1111 1111"),
        ("notify jane.doe@example.com now", "jane.doe@example.com"),
        ("ssn 123-45-6789 on file", "123-45-6789"),
        ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc"),
        ("git ghp_0123456789abcdefghijABCDEFGHIJ012345", "ghp_0123456789"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "MIIEpA",
        ),
        ("keys AKIA... wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG"),
        ('{"client_secret": "9f8e7d6c5b4a"}', "9f8e7d6c5b4a"),
    ],
)
def test_redact_removes_secrets(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_redact_keeps_ordinary_text() -> None:
    line = "Task timed out after 15.00 seconds"
    assert redact(line) == line


@pytest.mark.parametrize(
    "line",
    [
        "RequestId: 8f5c2d1e-0000-4000-8000-000000015003 Duration: 15003.00 ms",
        "order 4111111111111112 is not a card: it fails the Luhn check",
        "order O-1000 total 42.5 at 2026-11-22T09:55:01.000Z",
    ],
)
def test_redact_keeps_what_only_looks_like_a_secret(line: str) -> None:
    assert redact(line) == line


def test_report_line_parsed() -> None:
    r = parse_report(
        "REPORT RequestId: a\tDuration: 12.5 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 64 MB\tInit Duration: 100.00 ms"
    )
    assert r is not None and (r.duration_ms, r.memory_size_mb, r.max_memory_used_mb) == (
        12.5,
        128,
        64,
    )


def test_signatures_fold_ids_and_numbers_and_count() -> None:
    sigs = error_signatures(
        [
            "[ERROR] ValueError: order 123 invalid",
            "[ERROR] ValueError: order 456 invalid",
            '{"errorType": "TypeError", "errorMessage": "x is undefined"}',
        ]
    )
    assert (sigs[0].type, sigs[0].count) == ("ValueError", 2)
    assert sigs[1].type == "TypeError"
