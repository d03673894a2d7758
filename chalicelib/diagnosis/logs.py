"""Log lines read in Python: classified, REPORT lines parsed, secrets redacted."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

TIMEOUT = re.compile(r"Task timed out after (?P<seconds>[\d.]+) seconds")
OOM = re.compile(
    r"Runtime exited with error: signal: killed|Runtime\.OutOfMemory|MemoryError"
    r"|JavaScript heap out of memory|java\.lang\.OutOfMemoryError",
)
PERMISSION = re.compile(
    r"AccessDenied(?:Exception)?|is not authorized to perform:?\s*(?P<action>[\w-]+:\w+)?"
    r"|UnauthorizedOperation|AuthorizationError",
)
DOWNSTREAM = re.compile(
    r"ThrottlingException|TooManyRequests(?:Exception)?|ProvisionedThroughputExceeded(?:Exception)?"
    r"|RequestLimitExceeded|SlowDown|Rate exceeded|Maximum sending rate exceeded|\(Throttling\)"
    r"|\b(?:HTTP|status(?: code)?:?)\s*(?:429|503)\b|\b(?:429|503) (?:Too Many Requests|Service Unavailable)",
    re.IGNORECASE,
)
REPORT = re.compile(
    r"REPORT RequestId: \S+\s+Duration: (?P<duration>[\d.]+) ms\s+Billed Duration: (?P<billed>\d+) ms"
    r"\s+Memory Size: (?P<size>\d+) MB\s+Max Memory Used: (?P<used>\d+) MB",
)
# Python's "[ERROR] KeyError: 'sku'", Node's "ERROR Invoke Error {...errorType...}", JSON logs.
ERROR_SIGNATURE = re.compile(
    r"\[ERROR\]\s+(?:[\d\-T:.Z]+\s+\S+\s+)?(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Fault))"
    r":?\s*(?P<message>.*)"
    r'|"errorType"\s*:\s*"(?P<jtype>[^"]+)"(?:.*?"errorMessage"\s*:\s*"(?P<jmessage>[^"]*)")?'
    r"|^(?P<ptype>[A-Za-z_][\w.]*(?:Error|Exception)): (?P<pmessage>.+)$",
)
LOCATION = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\w+)')
INIT = re.compile(r"Init Duration: (?P<ms>[\d.]+) ms")
ERRORISH = re.compile(r"\[ERROR\]|Traceback|Exception|Error:|\bERROR\b|Task timed out")


@dataclass(frozen=True)
class Report:
    duration_ms: float
    billed_ms: int
    memory_size_mb: int
    max_memory_used_mb: int
    init_ms: float | None = None  # "Init Duration": this invocation was a cold start


def parse_report(message: str) -> Report | None:
    match = REPORT.search(message)
    if not match:
        return None
    return Report(
        duration_ms=float(match["duration"]),
        billed_ms=int(match["billed"]),
        memory_size_mb=int(match["size"]),
        max_memory_used_mb=int(match["used"]),
        init_ms=float(init["ms"]) if (init := INIT.search(message)) else None,
    )


@dataclass(frozen=True)
class Signature:
    type: str
    message: str
    location: str | None
    count: int


_VOLATILE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f-]{27,}\b|\b\d+(?:\.\d+)?\b")


def error_signatures(messages: list[str]) -> list[Signature]:
    """Errors grouped by (type, message with ids and numbers folded), most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    locations: dict[tuple[str, str], str] = {}
    for message in messages:
        match = ERROR_SIGNATURE.search(message)
        if not match:
            continue
        etype = match["type"] or match["jtype"] or match["ptype"]
        text = (match["message"] or match["jmessage"] or match["pmessage"] or "").strip()
        text = text.split("\n", 1)[0][:200]
        key = (etype, _VOLATILE.sub("N", text))
        counts[key] += 1
        examples.setdefault(key, text)
        found = LOCATION.findall(message)
        if found and key not in locations:
            file, line, func = found[-1]  # the innermost frame is where it was raised
            locations[key] = f"{file}:{line} in {func}"
    return [
        Signature(type=k[0], message=examples[k], location=locations.get(k), count=n)
        for k, n in counts.most_common()
    ]


_SECRETS = [
    (re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b"), "[REDACTED:aws-key-id]"),
    (
        re.compile(
            r"(?i)(aws_secret_access_key|secret_?key|secret)([\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{20,}"
        ),
        r"\1\2[REDACTED]",
    ),
    (
        re.compile(
            r"(?i)(aws_session_token|x-amz-security-token)([\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{20,}"
        ),
        r"\1\2[REDACTED]",
    ),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "[REDACTED:slack-token]"),
    (re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}"), "[REDACTED:jwt]"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}"), r"\1 [REDACTED]"),
    (
        re.compile(
            r"(?i)(password|passwd|pwd|api_?key|token|authorization)([\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"
        ),
        r"\1\2[REDACTED]",
    ),
    (re.compile(r"(?i)(://[^:/\s]+:)[^@/\s]+@"), r"\1[REDACTED]@"),
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
        ),
        "[REDACTED:private-key]",
    ),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"), "[REDACTED:stripe-key]"),
    (re.compile(r"\bgh[pousr]_[0-9A-Za-z]{36,}"), "[REDACTED:github-token]"),
    (re.compile(r"\bgithub_pat_[0-9A-Za-z_]{40,}"), "[REDACTED:github-token]"),
    (
        re.compile(r"(?i)(client_secret)([\"']?\s*[:=]\s*[\"']?)[^\s\"',;&]+"),
        r"\1\2[REDACTED]",
    ),
    # A bare 40-character AWS secret access key: the base64 alphabet, with a / or + in it.
    (
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        "[REDACTED:aws-secret]",
    ),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b"), "[REDACTED:email]"),
    (re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b"), "[REDACTED:ssn]"),
]

CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[REDACTED:card]" if 13 <= len(digits) <= 19 and _luhn(digits) else match.group()


def redact(text: str) -> str:
    """Remove keys, tokens, passwords and personal data before text leaves for Slack: AWS keys,
    Slack/GitHub/Stripe tokens, JWTs, private keys, e-mail addresses, US SSNs, and card numbers
    (those that pass the Luhn check)."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return CARD.sub(_card, text)
