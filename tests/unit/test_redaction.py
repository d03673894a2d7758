"""redact(): each kind of secret goes and the text around it stays; ordinary log lines stay whole.

The samples are shaped like real credentials (length, alphabet, prefix) and are assembled from
parts, so that secret scanners reading this file do not take them for leaked ones.
"""

from __future__ import annotations

import random
import string

import pytest

from chalicelib.diagnosis.logs import REDACT_LIMIT, redact
from chalicelib.diagnosis.secret_patterns import PATTERNS

KEY_ID = "AKIA" + "95H165Z7Q0467BOI"
SESSION_KEY_ID = "ASIA" + "Y34FZKBOKMUTVV7A"
# 40 characters of [A-Za-z0-9]: the shape without / or + that slipped through before.
SECRET_KEY = "huG8GP38g4o5MNJAYKJ1" + "UXXFWXLCpaNfhs0gCa05"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr" + "//////////wEaCXVzLWVhc3QtMSJHMEUCIQDx3q"
SLACK_WEBHOOK = (
    "https://hooks.slack.com/services/"
    + "T01ABCDEF23/B04GHIJKL56/"
    + ("0d9TH4QgTNBEjE4o" + "24hOSDRE")
)
SLACK_WORKFLOW = (
    "https://hooks.slack.com/workflows/"
    + "T01ABCDEF23/A05MNOPQR78/"
    + ("463871726183209475/" + "AbCdEfGhIjKlMnOpQrStUvWx")
)
SLACK_APP_TOKEN = (
    "xapp-1-A06B7C8D9E0-"
    + "6023816485107-"
    + ("8c9fcd698014efb68fefd19ae3e8e5df" + "28fb36d4e020e267318b40af47f492d5")
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    + ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
GITHUB_TOKEN = "ghp_" + "7iYY6LtGAyZjHZmya9gy" + "4ed1wPw7X8bbGEuR"
STRIPE_KEY = "sk_" + "live_" + "51H8tCu6hF8DKNZkjLHnBNvDMoRT"
API_KEY = "2c16511e6f046455" + "c8dd2c95b58efd9e"


def test_aws_access_key_id_is_redacted() -> None:
    assert redact(f"signing with {KEY_ID} for s3") == "signing with [REDACTED:aws-key-id] for s3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'{{"AccessKeyId": "{SESSION_KEY_ID}", "SecretAccessKey": "{SECRET_KEY}"}}',
            '{"AccessKeyId": "[REDACTED:aws-key-id]", "SecretAccessKey": "[REDACTED]"}',
        ),
        (f"aws_secret_access_key={SECRET_KEY}", "aws_secret_access_key=[REDACTED]"),
        (f"AWS_SECRET_ACCESS_KEY={SECRET_KEY} AWS_REGION=us-east-1", None),
        (f"SecretAccessKey: {SECRET_KEY}", "SecretAccessKey: [REDACTED]"),
        (
            f"<SecretAccessKey>{SECRET_KEY}</SecretAccessKey><Expiration>",
            "<SecretAccessKey>[REDACTED]</SecretAccessKey><Expiration>",
        ),
        (
            f"{{'Credentials': {{'SecretAccessKey': '{SECRET_KEY}', 'Expiration': None}}}}",
            "{'Credentials': {'SecretAccessKey': '[REDACTED]', 'Expiration': None}}",
        ),
        (
            f"boto3.client('s3', aws_secret_access_key='{SECRET_KEY}')",
            "boto3.client('s3', aws_secret_access_key='[REDACTED:aws-secret]')",
        ),
        (
            f"keys {KEY_ID} {SECRET_KEY} loaded",
            "keys [REDACTED:aws-key-id] [REDACTED:aws-secret] loaded",
        ),
    ],
)
def test_aws_secret_key_without_slash_or_plus_is_redacted(text: str, expected: str | None) -> None:
    out = redact(text)
    assert SECRET_KEY not in out
    if expected is not None:
        assert out == expected
    else:
        assert out.endswith(" AWS_REGION=us-east-1")


def test_aws_secret_keys_of_any_alphabet_are_redacted_beside_their_name() -> None:
    rnd = random.Random(40)
    for _ in range(200):
        key = "".join(rnd.choices(string.ascii_letters + string.digits + "/+", k=40))
        assert redact(f'"SecretAccessKey": "{key}",') == '"SecretAccessKey": "[REDACTED]",'


def test_aws_session_token_is_redacted() -> None:
    out = redact(f"export AWS_SESSION_TOKEN={SESSION_TOKEN} && aws s3 ls")
    assert out == "export AWS_SESSION_TOKEN=[REDACTED] && aws s3 ls"


@pytest.mark.parametrize(
    "token",
    [
        SLACK_APP_TOKEN,
        "xoxb-" + "2829017532-5721836594120-" + "Zq8BzH4uYwV1mKc9PdLr3sTe",
        "xoxp-" + "2829017532-2817346105-5721836594120-" + "8c9fcd698014efb68fefd19ae3e8e5df",
        "xoxa-" + "2-2829017532-5721836594120-" + "8c9fcd698014efb68fefd19ae3e8e5df",
        "xoxr-" + "2829017532-5721836594120-" + "Zq8BzH4uYwV1mKc9PdLr3sTe",
        "xoxe-1-" + "My0xLTI4MjkwMTc1MzItNTcyMTgzNjU5NDEyMC0",
        "xoxe.xoxp-1-" + "Mi0yLTI4MjkwMTc1MzItMjgxNzM0NjEwNS01NzIx",
    ],
)
def test_slack_tokens_are_redacted(token: str) -> None:
    out = redact(f"slack auth.test with {token} failed: invalid_auth")
    assert out == "slack auth.test with [REDACTED:slack-token] failed: invalid_auth"


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        (SLACK_WEBHOOK, "https://hooks.slack.com/services/"),
        (SLACK_WORKFLOW, "https://hooks.slack.com/workflows/"),
        (SLACK_WORKFLOW.removeprefix("https://"), "hooks.slack.com/workflows/"),
    ],
)
def test_slack_webhook_urls_are_redacted(url: str, kept: str) -> None:
    out = redact(f"POST {url} returned 404 no_service")
    assert out == f"POST {kept}[REDACTED:slack-webhook] returned 404 no_service"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"x-api-key: {API_KEY}", "x-api-key: [REDACTED]"),
        (
            f"headers={{'X-Api-Key': '{API_KEY}', 'Accept': 'application/json'}}",
            "headers={'X-Api-Key': '[REDACTED]', 'Accept': 'application/json'}",
        ),
        (f"GET /orders?api_key={API_KEY}&page=2", "GET /orders?api_key=[REDACTED]&page=2"),
    ],
)
def test_api_key_headers_and_parameters_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer 4f9a1c2b7d", "Authorization: Bearer [REDACTED]"),
        (f'"authorization": "Bearer {JWT}"', '"authorization": "Bearer [REDACTED:jwt]"'),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [REDACTED]"),
        ("Authorization: Basic YTpi", "Authorization: Basic [REDACTED]"),
        ("Authorization: token " + GITHUB_TOKEN, "Authorization: token [REDACTED:github-token]"),
        (
            "curl -H 'Bearer 9c2b7d4f1a0e8d3c' https://api",
            "curl -H 'Bearer [REDACTED]' https://api",
        ),
    ],
)
def test_authorization_credentials_are_redacted_and_the_scheme_kept(
    text: str, expected: str
) -> None:
    assert redact(text) == expected


def test_jwt_is_redacted() -> None:
    assert redact(f"id_token={JWT}; path=/") == "id_token=[REDACTED:jwt]; path=/"


@pytest.mark.parametrize(
    "key",
    [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9u\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04f",
    ],
)
def test_private_key_is_redacted_to_its_end(key: str) -> None:
    out = redact(f"loaded key {key} from ssm")
    assert "MII" not in out and "b3Bl" not in out
    assert out.startswith("loaded key [REDACTED:private-key]")


def test_github_token_is_redacted() -> None:
    assert redact(f"git push https://{GITHUB_TOKEN}@github.com/o/r") == (
        "git push https://[REDACTED:github-token]@github.com/o/r"
    )


def test_stripe_key_is_redacted() -> None:
    assert redact(f"stripe.api_key = {STRIPE_KEY}") == "stripe.api_key = [REDACTED:stripe-key]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter2&user=bob", "password=[REDACTED]&user=bob"),
        (
            '{"user": "bob", "password": "correct horse battery staple"}',
            '{"user": "bob", "password": "[REDACTED]"}',
        ),
        (
            '"{\\"password\\": \\"hunter2\\", \\"user\\": \\"bob\\"}"',
            '"{\\"password\\": \\"[REDACTED]\\", \\"user\\": \\"bob\\"}"',
        ),
        ("DB_PASSWORD=s3cr3t! DB_HOST=db.internal", "DB_PASSWORD=[REDACTED] DB_HOST=db.internal"),
        ("spring.datasource.password: Tr0ub4dor&3", "spring.datasource.password: [REDACTED]&3"),
        ('{"client_secret": "9f8e7d6c5b4a"}', '{"client_secret": "[REDACTED]"}'),
        (
            '{"SecretString": "{\\"username\\":\\"admin\\",\\"password\\":\\"pw0rd\\"}"}',
            '{"SecretString": "[REDACTED]"}',
        ),
    ],
)
def test_secret_named_values_are_redacted_and_their_names_kept(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_password_in_a_url_is_redacted() -> None:
    assert redact("postgres://orders:s3cr3t@db.internal:5432/orders") == (
        "postgres://orders:[REDACTED]@db.internal:5432/orders"
    )


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("glpat-" + "MOPTNc7zuMnMDBR4hRx3", "gitlab-token"),
        (
            "SG." + "luHEChHYHYr0g2noa9f4DP." + "vAIY122Ql9bw2kwJRKYInhNTrJWKUnKsKrQJigYqg9B",
            "sendgrid-key",
        ),
        ("SK" + "kgdwlg6uresukqqea0q0adgpbthg9wu3", "twilio-key"),
        ("npm_" + "GR7qys80wdVTB4bsSvsU9XZ6htXAuL5bI9vm", "npm-token"),
        ("sk-proj-" + "a1B2c3D4e5F6g7H8i9J0" + "T3BlbkFJ" + "k1L2m3N4o5P6q7R8s9T0", "openai-key"),
    ],
)
def test_other_service_tokens_are_redacted(token: str, kind: str) -> None:
    assert redact(f"using {token} now") == f"using [REDACTED:{kind}] now"


@pytest.mark.parametrize(
    "line",
    [
        "START RequestId: 3f1b2a9c-8d7e-4f6a-b5c4-d3e2f1a0b9c8 Version: $LATEST",
        "REPORT RequestId: 3f1b2a9c-8d7e-4f6a-b5c4-d3e2f1a0b9c8\tDuration: 15003.00 ms\t"
        "Billed Duration: 15000 ms\tMemory Size: 512 MB\tMax Memory Used: 187 MB\t"
        "Init Duration: 412.55 ms",
        "2026-11-22T09:55:01.000Z 3f1b2a9c-8d7e-4f6a-b5c4-d3e2f1a0b9c8 Task timed out after 15.00 seconds",
        "arn:aws:lambda:us-east-1:123456789012:function:orders-api:live",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:production/orders/database-AbCdEf",
        "arn:aws:sqs:eu-west-1:123456789012:orders-dlq",
        "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the "
        "GetSecretValue operation: User: arn:aws:sts::123456789012:assumed-role/orders-role/"
        "orders-api is not authorized to perform: secretsmanager:GetSecretValue on resource: "
        "prod/orders/db because no identity-based policy allows the secretsmanager:GetSecretValue action",
        'Traceback (most recent call last):\n  File "/var/task/src/handlers/orders/processors.py", '
        'line 42, in handler\n    secret = client.get_secret_value(SecretId=SECRET_ARN)["SecretString"]\n'
        "    password = os.environ[\"DB_PASSWORD\"]\nKeyError: 'password'",
        "ExpiredTokenException: The security token included in the request is expired",
        "ExpiredToken: The provided token has expired.",
        "InvalidClientTokenId: The security token included in the request is invalid.",
        "PasswordResetRequiredException: Password reset is required",
        '{"timestamp":1732269301005,"level":"INFO","requestId":"c0ffee00-1a2b-4c3d-8e9f-0123456789ab"}',
        "x-amzn-trace-id: Root=1-67403a15-5e2b9c1d8f7a6b4c3d2e1f0a;Parent=53995c3f42cd8ad8;Sampled=1",
        "deployed 4b825dc642cb6eb9a060e54bf8d69288fbee4904 (sha256:8c9fcd698014efb68fefd19ae3e8e5df)",
        '{"SecretId": "prod/orders/db", "SecretName": "prod/orders/db", "VersionStage": "AWSCURRENT"}',
        '{"max_tokens": 4096, "token_type": "Bearer", "tokens_used": 1200}',
        "    at Runtime.handler (file:///var/task/index.mjs:10:5)",
        "using basic authentication for the proxy",
        "Missing Authentication Token",
        "s3://orders-bucket/invoices/2026/11/22/INV-000123.pdf",
        "order O-1000 total 42.5 at 2026-11-22T09:55:01.000Z",
    ],
)
def test_ordinary_log_lines_are_kept_whole(line: str) -> None:
    assert redact(line) == line


def test_text_past_the_limit_is_dropped() -> None:
    out = redact("x" * (REDACT_LIMIT * 3))
    assert out == "x" * REDACT_LIMIT + "…"


def test_every_pattern_compiles_and_its_hints_are_lower_case() -> None:
    for p in PATTERNS:
        assert p.regex.pattern == p.pattern
        assert all(h == h.lower() for h in p.hints), p.kind
