"""What `logs.redact` removes: secret shapes as data, most of them from detect-secrets.

The token shapes and the keyword list come from Yelp's detect-secrets 1.5.0
(https://github.com/Yelp/detect-secrets, tag v1.5.0, `detect_secrets/plugins/`; Apache License 2.0,
Copyright Yelp, Inc.), carried here as patterns rather than depended on: the package brings
requests and PyYAML (1.6 MB of wheels, 8 MB installed) and its import costs a cold start about
150 ms, for plugins that are a regular expression each (`benchmarks/redaction.py` measures both).
Each pattern names the plugin it comes from; those marked Shepherd's are not in detect-secrets.

detect-secrets scans source files line by line and reports what it finds; Shepherd rewrites log
lines and message bodies, so the patterns are adapted, each adaptation stated beside it: a match
is bounded at both ends (a token goes whole, and no ordinary word loses half of itself), the
secret is the group named `secret` where the text around it (a key, a URL) helps a diagnosis,
and repeats are capped so that a long line costs linear time.

Left out on purpose: the high-entropy string detectors (they would take request ids, hashes and
trace ids, which a diagnosis needs), IPPublicDetector (an address is not a secret), Artifactory's
`AP…` password shape (it takes names such as APDefaultHandler), and the IBM Cloud, Cloudant and
SoftLayer detectors (keyword shapes for services outside AWS, which the keyword patterns below
cover in the main).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class SecretPattern:
    kind: str  # the label it leaves, "[REDACTED:kind]"; "" for "[REDACTED]" beside a telling key
    pattern: str  # the secret is its group named "secret", else the whole match
    source: str
    # Lower-case text of which every match holds one: a pattern is not run over text without
    # any (a substring test costs far less than a scan). Empty: always run.
    hints: tuple[str, ...] = ()
    check: Callable[[str], bool] | None = None  # a match is redacted only if this holds

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """Compiled on first use: a cold start compiles only what its text calls for."""
        return re.compile(self.pattern)

    @property
    def keeps_context(self) -> bool:
        """Whether the text around the secret (a key, a URL) stays."""
        return "(?P<secret>" in self.pattern


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _basic_credentials(text: str) -> bool:
    token = text.split()[-1].rstrip("=")
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except binascii.Error:
        return False
    return b":" in decoded


def _card_number(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and _luhn(digits)


# detect-secrets' KeywordDetector DENYLIST (plugins/keyword.py), `_?` widened to `[_-]?` so that
# header names (x-api-key) match too. As there, a keyword may be followed by more of the name
# (SecretAccessKey, password_hash).
_KEYWORDS = (
    "api[_-]?key",
    "auth[_-]?key",
    "service[_-]?key",
    "account[_-]?key",
    "db[_-]?key",
    "database[_-]?key",
    "priv[_-]?key",
    "private[_-]?key",
    "client[_-]?key",
    "db[_-]?pass",
    "database[_-]?pass",
    "key[_-]?pass",
    "password",
    "passwd",
    "pwd",
    "secret",
    "contraseña",
    "contrasena",
)
# Names that hold a keyword but name or describe a secret rather than hold one (SecretId,
# SecretArn, PasswordLastUsed, PasswordResetRequiredException, secretsmanager:GetSecretValue):
# Shepherd's.
_NOT_HELD = ("exception", "error", "fault", "id", "ids", "arn", "name", "manager", "used")
# Error codes that read "ExpiredToken: The provided token has expired": Shepherd's.
_ERROR_CODE = r"(?!(?:invalid|expired|missing|incorrect|wrong|bad)[_-]?)"
# A key is a whole name, or a dotted or dashed name's last parts (db.password, x-api-key); not
# the tail of a word, a path or an ARN (arn:…:secret:prod/db stays).
_KEY_START = r"(?<![\w:/])" + _ERROR_CODE + r"[\w.-]{0,32}?"
_KEY = (
    _KEY_START
    + r"(?:(?:"
    + "|".join(_KEYWORDS)
    + r")\w{0,32}"
    + "".join(f"(?<!{word})" for word in _NOT_HELD)
    # Shepherd's: a name that ends in "token" (SessionToken, aws_session_token,
    # x-amz-security-token, access_token; not max_tokens, not token_type).
    + r"|token)(?!\w)"
)
# The key's closing quote or bracket, an assignment (=, :, :=, =>), and the value's opening quote;
# `\"` for JSON logged inside a JSON string, b'…' for Python's bytes.
_ASSIGN = r"(?:\\?[\"'`\]]){0,2}[ \t]{0,16}(?::=|=>|[:=])[ \t]{0,16}(?:b?(?P<escaped>\\)?[\"'`])?"
# The value: inside quotes, up to the closing quote (past escaped quotes, unless the opening one
# was escaped too); bare, up to a space or separator. As detect-secrets' filters do
# (filters/heuristic.py), a bare value that refers to a secret rather than holds it is kept:
# `get_secret()`, `request.headers['apikey']`, `{…}`, `${VAR}`, `*****`.
_VALUE = (
    r"(?P<secret>(?!\[REDACTED)(?:"
    r"(?<=\")(?(escaped)(?:[^\"\\\n]|\\[^\"\n])+|(?:[^\"\\\n]|\\.)+)"
    r"|(?<=')(?:[^'\\\n]|\\[^'\n])+"
    r"|(?<=`)[^`\n]+"
    r"|(?<![\w\"'`\\])(?![\[{(<]|\$\{)(?![\w.-]*[\[(])(?=[^\s\"'`,;&<>\\]*[A-Za-z0-9])"
    r"[^\s\"'`,;&<>\\]+"
    r"))"
)
# Scheme names an Authorization header's credentials follow (RFC 9110 and the vendors'), kept.
_AUTH_SCHEME = r"(?:Basic|Bearer|Digest|DPoP|Negotiate|NTLM|OAuth|Token|Bot|SSWS|AWS4-HMAC-SHA256)"

SHEPHERD = "Shepherd"
DS = "detect-secrets 1.5.0"

PATTERNS: tuple[SecretPattern, ...] = (
    # A whole PEM/OpenSSH/PGP/PuTTY private key, to its end or to the end of the text; detect-secrets
    # flags the header lines alone, and the key is the body after them.
    SecretPattern(
        "private-key",
        r"(?:-{4,5} ?BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}|PuTTY-User-Key-File-\d+:)"
        r"[\s\S]*?"
        r"(?:-{4,5} ?END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}|Private-MAC: *[0-9a-fA-F]+|\Z)",
        f"{DS} PrivateKeyDetector",
        hints=("private key", "putty-user-key-file"),
    ),
    # detect-secrets' `[A-Za-z0-9-_=]` is a range from 9 to _ in Python; meant is `[\w=-]`. Not
    # checked for decoding to JSON as there: a token cut short by a log's length limit still goes.
    SecretPattern(
        "jwt",
        r"(?<![\w-])eyJ[\w=-]{1,8192}\.[\w=-]{1,8192}(?:\.[\w.+/=-]{0,8192})?",
        f"{DS} JwtTokenDetector",
        hints=("eyj",),
    ),
    # Incoming webhooks, and (Shepherd's) Workflow Builder webhooks and triggers; host and kind stay.
    SecretPattern(
        "slack-webhook",
        r"(?i)(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[\w/-]{1,300})",
        f"{DS} SlackDetector",
        hints=("hooks.slack.com",),
    ),
    # detect-secrets: xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+. Shepherd's: app-level tokens (xapp-),
    # refresh and rotating tokens (xoxe-, xoxe.xoxp-) and any token body.
    SecretPattern(
        "slack-token",
        r"(?i)\bx(?:ox[abeoprs]|app)(?:\.xox[abp])?-[A-Za-z0-9-]{10,300}",
        f"{DS} SlackDetector",
        hints=("xox", "xapp"),
    ),
    # Shepherd's: the unique ids of users and roles (AIDA, AROA), which it has always redacted.
    SecretPattern(
        "aws-key-id",
        r"\b(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b",
        f"{DS} AWSKeyDetector",
        hints=("a3t", "abia", "acca", "akia", "asia", "aida", "aroa"),
    ),
    SecretPattern(
        "aws-secret",
        r"(?i)aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"](?P<secret>[0-9a-zA-Z/+]{40})['\"]",
        f"{DS} AWSKeyDetector",
        hints=("aws",),
    ),
    # detect-secrets: (ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}; Shepherd's: fine-grained tokens.
    SecretPattern(
        "github-token",
        r"\b(?:gh[pousr]_[A-Za-z0-9_]{36,255}|github_pat_\w{40,255})\b",
        f"{DS} GitHubTokenDetector",
        hints=("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    SecretPattern(
        "gitlab-token",
        r"\b(?:(?:glpat|gldt|glft|glsoat|glrt)-[\w-]{20,50}"
        r"|GR1348941[\w-]{20,50}"
        r"|glcbt-(?:[0-9a-fA-F]{2}_)?[\w-]{20,50}"
        r"|glimt-[\w-]{25}|glptt-[\w-]{40}|glagent-[\w-]{50,1024}|gloas-[\w-]{64})(?![\w-])",
        f"{DS} GitLabTokenDetector",
        hints=("gl", "gr1348941"),
    ),
    # detect-secrets: (?:r|s)k_live_[0-9a-zA-Z]{24}; Shepherd's: test-mode keys, longer keys.
    SecretPattern(
        "stripe-key",
        r"\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,255}",
        f"{DS} StripeDetector",
        hints=("k_live_", "k_test_"),
    ),
    SecretPattern(
        "twilio-key",
        r"\b(?:AC|SK)[a-z0-9]{32}\b",
        f"{DS} TwilioKeyDetector",
    ),
    SecretPattern(
        "sendgrid-key",
        r"\bSG\.[\w-]{22}\.[\w-]{43}(?![\w-])",
        f"{DS} SendGridDetector",
        hints=("sg.",),
    ),
    SecretPattern(
        "mailchimp-key",
        r"\b[0-9a-z]{32}-us[0-9]{1,2}\b",
        f"{DS} MailchimpDetector",
        hints=("-us",),
    ),
    SecretPattern(
        "openai-key",
        r"\bsk-[\w-]{0,255}?[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
        f"{DS} OpenAIDetector",
        hints=("t3blbkfj",),
    ),
    # detect-secrets reads .npmrc's `//registry/:_authToken=`; Shepherd's: a bare npm_ token.
    SecretPattern(
        "npm-token",
        r":_authToken=\s*(?P<secret>[^\s\"']{1,300})|\bnpm_[A-Za-z0-9]{36}\b",
        f"{DS} NpmDetector",
        hints=("_authtoken", "npm_"),
    ),
    SecretPattern(
        "pypi-token",
        r"\bpypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[\w-]{70,1024}",
        f"{DS} PypiTokenDetector",
        hints=("pypi-ag",),
    ),
    SecretPattern(
        "discord-token",
        r"(?<![\w-])[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27}(?![\w-])",
        f"{DS} DiscordBotTokenDetector",
        hints=(".",),
    ),
    SecretPattern(
        "telegram-token",
        r"(?<![\w:])\d{8,10}:[\w-]{35}(?![\w-])",
        f"{DS} TelegramBotTokenDetector",
        hints=(":",),
    ),
    SecretPattern(
        "square-secret",
        r"\bsq0csp-[\w\\-]{43}",
        f"{DS} SquareOAuthDetector",
        hints=("sq0csp-",),
    ),
    SecretPattern(
        "artifactory-token",
        r"(?<![\w/+-])AKC[a-zA-Z0-9]{10,255}(?![\w/+-])",
        f"{DS} ArtifactoryDetector",
        hints=("akc",),
    ),
    SecretPattern(
        "azure-storage-key",
        r"AccountKey=(?P<secret>[a-zA-Z0-9+/=]{88})",
        f"{DS} AzureStorageKeyDetector",
        hints=("accountkey=",),
    ),
    # detect-secrets leaves RFC 3986's sub-delimiters out of the password too; a log shows what
    # was typed, so any character but those that end it.
    SecretPattern(
        "",
        r"://[^:/?#\[\]@\s]{1,255}:(?P<secret>[^@/\s]{1,255})@",
        f"{DS} BasicAuthDetector",
        hints=("://",),
    ),
    # An Authorization header's credentials, after the scheme's name (held once read, so that
    # the name is never taken for the credentials).
    SecretPattern(
        "",
        "(?i)"
        + _KEY_START
        + r"authorization(?!\w)"
        + _ASSIGN
        + rf"(?>(?:{_AUTH_SCHEME}\s+)?)"
        + _VALUE,
        SHEPHERD,
        hints=("authorization",),
    ),
    # A bearer token outside a header.
    SecretPattern(
        "",
        r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/=-]{12,4096})",
        SHEPHERD,
        hints=("bearer",),
    ),
    # Basic credentials outside a header: base64 that decodes to user:password, so that
    # "basic authentication" stays.
    SecretPattern(
        "",
        r"(?i)\bbasic\s+(?P<secret>[A-Za-z0-9+/]{4,4096}={0,2})(?![\w+/=])",
        SHEPHERD,
        hints=("basic",),
        check=_basic_credentials,
    ),
    # <SecretAccessKey>…</SecretAccessKey>, <Password>…</Password>: XML of AWS's query APIs.
    SecretPattern(
        "",
        r"(?i)<(?P<tag>" + _KEY + r")>(?P<secret>[^<\n]{1,4096})</(?P=tag)>",
        f"{DS} KeywordDetector, in XML elements",
        hints=("</",),
    ),
    # The assignments KeywordDetector's expressions take (keyword.py: FOLLOWED_BY_COLON_REGEX,
    # FOLLOWED_BY_EQUAL_SIGNS_REGEX and their quoted forms), whichever the line is written in: a
    # log line can be JSON, YAML, an environment, a query string or a Python repr.
    SecretPattern(
        "",
        "(?i)" + _KEY + _ASSIGN + _VALUE,
        f"{DS} KeywordDetector",
        hints=("pass", "pwd", "secret", "key", "token", "contrase"),
    ),
    # A bare AWS secret access key: 40 characters of base64 with an upper and a lower case letter
    # and a digit (a real key lacks one about once in a thousand), so that 40-character hex hashes
    # and file paths stay.
    SecretPattern(
        "aws-secret",
        r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{0,39}[A-Z])(?=[A-Za-z0-9/+]{0,39}[a-z])"
        r"(?=[A-Za-z0-9/+]{0,39}[0-9])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        SHEPHERD,
    ),
    # Personal data. A local part is at most 64 characters (RFC 5321), which keeps long dotted
    # words linear.
    SecretPattern(
        "email",
        r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,8}\.[A-Za-z]{2,24}\b",
        SHEPHERD,
        hints=("@",),
    ),
    SecretPattern(
        "ssn",
        r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b",
        SHEPHERD,
        hints=("-",),
    ),
    # Card numbers that pass the Luhn check, from a brand's first digit (2 to 6), so that epoch
    # milliseconds (13 digits from 1) stay.
    SecretPattern(
        "card",
        r"\b[2-6](?:[ -]?\d){11,17}\d\b",
        SHEPHERD,
        check=_card_number,
    ),
)
