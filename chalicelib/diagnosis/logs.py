"""Log lines read in Python: classified, REPORT lines parsed, secrets redacted."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.diagnosis.secret_patterns import PATTERNS, SecretPattern

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


# Every caller shows at most a Slack block's text (3,000 characters) of what redact() returns;
# a log event or a message body can be 256 KB. Past this, text is cut before it is read.
REDACT_LIMIT = 20_000


def _replacer(p: SecretPattern) -> str | Callable[[re.Match[str]], str]:
    label = f"[REDACTED:{p.kind}]" if p.kind else "[REDACTED]"
    check = p.check
    keeps_context = p.keeps_context
    if check is None and not keeps_context:
        return label

    def replace(match: re.Match[str]) -> str:
        whole = match.group()
        if check is not None and not check(whole):
            return whole
        if not keeps_context or match.start("secret") < 0:
            return label
        start, end = (i - match.start() for i in match.span("secret"))
        return whole[:start] + label + whole[end:]

    return replace


_REDACTIONS = [(p, _replacer(p)) for p in PATTERNS]


def redact(text: str) -> str:
    """Remove keys, tokens, passwords and personal data before text leaves for Slack.

    The shapes are in `secret_patterns` (AWS, Slack, GitHub, Stripe and other tokens, JWTs,
    private keys, credentials in URLs and headers, secret-named fields; e-mail addresses, US SSNs,
    card numbers that pass the Luhn check). Text past REDACT_LIMIT is dropped.
    """
    if len(text) > REDACT_LIMIT:
        text = text[:REDACT_LIMIT] + "…"
    lower = text.lower()  # hints hold for the text as given: a label starts no later match
    for p, replacement in _REDACTIONS:
        if not p.hints or any(hint in lower for hint in p.hints):
            text = p.regex.sub(replacement, text)
    return text
