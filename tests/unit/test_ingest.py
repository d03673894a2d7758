from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.events.ingest import parse_event, parse_time
from chalicelib.events.signals import Alarm, FailureRecord
from tests.conftest import load_event


def only_alarm(event: object) -> Alarm:
    batch = parse_event(event)
    assert batch.skipped == []
    assert len(batch.signals) == 1
    signal = batch.signals[0]
    assert isinstance(signal, Alarm)
    return signal


def test_sns_alarm_takes_region_code_from_arn_not_long_name() -> None:
    alarm = only_alarm(load_event("sns-lambda-errors-alarm.json"))
    assert alarm.region == "us-east-1"
    assert alarm.account == "123456789012"
    assert alarm.state == "ALARM"
    assert alarm.previous_state == "OK"
    assert alarm.shape == "metric"
    assert alarm.metrics[0].dimensions == {"FunctionName": "orders-processor"}
    assert alarm.metrics[0].stat == "Sum"
    assert alarm.time == datetime(2026, 11, 22, 9, 56, 12, 345000, tzinfo=UTC)


def test_raw_alarm_message_going_back_to_ok() -> None:
    alarm = only_alarm(load_event("alarm-lambda-errors-ok.json"))
    assert alarm.state == "OK"
    assert alarm.previous_state == "ALARM"


def test_metric_math_alarm_keeps_expression_and_alias_dimension() -> None:
    alarm = only_alarm(load_event("alarm-metric-math-error-rate.json"))
    assert alarm.shape == "math"
    assert alarm.region == "eu-west-1"
    assert alarm.expression == "100*errors/invocations"
    assert {m.name for m in alarm.metrics} == {"Errors", "Invocations"}
    assert alarm.metrics[0].dimensions["Resource"] == "live"
    assert alarm.evaluation_periods == 3


def test_anomaly_band_alarm_is_recognised() -> None:
    message = load_event("alarm-metric-math-error-rate.json")
    message["Trigger"]["Metrics"][0] = {
        "Expression": "ANOMALY_DETECTION_BAND(errors, 2)",
        "Id": "band",
        "ReturnData": True,
    }
    message["Trigger"]["ThresholdMetricId"] = "band"
    assert only_alarm(message).shape == "anomaly"


def test_composite_alarm_lists_triggering_children() -> None:
    alarm = only_alarm(load_event("alarm-composite.json"))
    assert alarm.shape == "composite"
    assert alarm.metrics == ()
    assert alarm.children == (
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:payments-capture-throttles",
    )


def test_eventbridge_state_change_with_dimensions_as_map() -> None:
    alarm = only_alarm(load_event("eventbridge-alarm-state-change.json"))
    assert alarm.name == "orders-processor-duration"
    assert alarm.metrics[0].dimensions == {"FunctionName": "orders-processor"}
    assert alarm.metrics[0].stat == "Maximum"
    assert alarm.threshold == 12000.0


def test_destination_record_raw_and_wrapped_in_sqs_are_the_same_failure() -> None:
    raw = parse_event(load_event("lambda-destination-on-failure.json")).signals
    wrapped = parse_event(load_event("sqs-wrapped-destination-record.json")).signals
    assert raw == wrapped
    failure = raw[0]
    assert isinstance(failure, FailureRecord)
    assert failure.function_name == "invoice-mailer"
    assert failure.qualifier == "$LATEST"
    assert failure.attempts == 3
    assert failure.error_type == "ClientError"
    assert "Throttling" in (failure.error_message or "")


def test_destination_record_via_sns_and_eventbridge() -> None:
    record = load_event("lambda-destination-on-failure.json")
    via_sns = {"Records": [{"Sns": {"MessageId": "m1", "Message": json.dumps(record)}}]}
    via_eb = {"detail-type": "Lambda Function Invocation Result - Failure", "detail": record}
    assert len(parse_event(via_sns).signals) == 1
    assert len(parse_event(via_eb).signals) == 1


def test_malformed_record_is_skipped_and_the_rest_of_the_batch_survives() -> None:
    good = load_event("sns-lambda-errors-alarm.json")["Records"][0]
    event = {
        "Records": [
            {"Sns": {"MessageId": "bad-json", "Message": "{not json"}},
            {"Sns": {"MessageId": "no-arn", "Message": json.dumps({"AlarmName": "x"})}},
            "not a record",
            good,
        ]
    }
    batch = parse_event(event)
    assert len(batch.signals) == 1
    assert [s.where for s in batch.skipped] == ["Records[0]", "Records[1]", "Records[2]"]
    assert "not JSON" in batch.skipped[0].reason


def test_alarm_missing_required_field_names_the_field() -> None:
    message = load_event("alarm-lambda-errors-ok.json")
    del message["StateChangeTime"]
    batch = parse_event(message)
    assert batch.signals == []
    assert "StateChangeTime" in batch.skipped[0].reason


def test_an_unreadable_timestamp_keeps_an_otherwise_readable_alarm() -> None:
    """One garbled field does not lose the alarm: with no envelope time, it is taken as now."""
    message = load_event("alarm-lambda-errors-ok.json")
    message["StateChangeTime"] = "yesterday"
    before = datetime.now(UTC)
    alarm = only_alarm(message)
    assert alarm.state == "OK" and before <= alarm.time <= datetime.now(UTC)


def test_same_alarm_via_sns_and_eventbridge_shares_a_dedupe_key() -> None:
    sns = only_alarm(load_event("sns-lambda-errors-alarm.json"))
    again = only_alarm(
        json.loads(load_event("sns-lambda-errors-alarm.json")["Records"][0]["Sns"]["Message"])
    )
    assert sns.dedupe_key == again.dedupe_key


def test_parse_time_accepts_aws_offsets() -> None:
    assert parse_time("2026-11-22T09:56:12.345+0000") == parse_time("2026-11-22T09:56:12.345Z")


def test_sns_alarm_without_an_arn_takes_its_region_from_the_long_name() -> None:
    alarm = only_alarm(load_event("sns-alarm-without-arn.json"))
    assert alarm.region == "eu-west-2"  # "EU (London)", through botocore's endpoint data
    assert alarm.arn == "arn:aws:cloudwatch:eu-west-2:123456789012:alarm:billing-export-errors"
    assert alarm.metrics[0].dimensions == {"FunctionName": "billing-export"}


def test_an_unknown_region_name_with_no_arn_to_tell_is_skipped_with_the_reason() -> None:
    event = load_event("sns-alarm-without-arn.json")
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["Region"] = "Atlantis (Central)"
    batch = parse_event(message)  # the bare message: no topic ARN around it either
    assert batch.signals == []
    assert "unknown region name 'Atlantis (Central)'" in batch.skipped[0].reason


def test_cloudwatch_invoking_a_function_directly_is_an_alarm() -> None:
    alarm = only_alarm(load_event("lambda-alarm-action.json"))
    assert alarm.arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:orders-processor-errors"
    assert (alarm.state, alarm.previous_state, alarm.region) == ("ALARM", "OK", "us-east-1")
    assert alarm.metrics[0].dimensions == {"FunctionName": "orders-processor"}
    assert alarm.threshold == 1.0


def test_events_that_are_not_alarms_say_what_they_are() -> None:
    for name in ("eventbridge-guardduty-finding.json", "eventbridge-health-event.json"):
        batch = parse_event(load_event(f"not-alarms/{name}"))
        assert batch.signals == []
        [skipped] = batch.skipped
        assert "not an alarm" in skipped.reason
        assert "GuardDuty Finding" in skipped.reason or "AWS Health Event" in skipped.reason
