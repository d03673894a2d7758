"""An SQS-fed function whose messages come back while still in flight: the setup is the cause."""

from __future__ import annotations

from chalicelib.diagnosis.evidence import FunctionFacts
from chalicelib.diagnosis.rules import diagnose
from tests.unit.evidence_builder import evidence

TWICE = (
    "[ERROR] ConditionalCheckFailedException: An error occurred (ConditionalCheckFailedException) "
    "when calling the PutItem operation: order O-1 already processed"
)


def sqs_fed(visibility_s: int) -> FunctionFacts:
    return FunctionFacts(
        name="orders",
        arn="arn:aws:lambda:us-east-1:123456789012:function:orders",
        timeout_s=60,
        memory_mb=1024,
        event_sources=[
            {
                "arn": "arn:aws:sqs:us-east-1:123456789012:orders-in",
                "state": "Enabled",
                "uuid": "u",
                "last_result": "OK",
                "reason": "",
                "visibility_timeout": str(visibility_s),
            }
        ],
    )


def test_redelivered_messages_failing_an_idempotency_write_rank_the_visibility_first() -> None:
    ev = evidence(
        function=sqs_fed(30),
        window={"Errors": 5, "Invocations": 20},
        lookback={"Errors": 0, "Invocations": 20},
        logs=[TWICE] * 5,
    )
    d = diagnose(ev)
    assert d.top.kind == "misconfiguration", [(c.kind, c.confidence) for c in d.causes]
    assert "visibility timeout is 30 s" in " ".join(d.top.evidence)
    assert "handled twice" in " ".join(d.top.evidence)
    assert [c.kind for c in d.causes].index("code_error") > 0


def test_a_short_visibility_without_signs_of_redelivery_does_not_outrank_the_errors() -> None:
    ev = evidence(
        function=sqs_fed(30),
        window={"Errors": 5, "Invocations": 20},
        lookback={"Errors": 0, "Invocations": 20},
        logs=["[ERROR] KeyError: 'sku'"] * 5,
    )
    assert diagnose(ev).top.kind != "misconfiguration"
