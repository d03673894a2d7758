"""A local front for the moto server that answers the few AWS calls moto does not have.

`make run` points Shepherd at this instead of at moto, so that every `/ops` command can be tried
on the demo fleet: Lambda's GetAccountSettings and provisioned concurrency, and SQS's
message-move tasks are answered here (state in memory, moves done by a background thread through
moto's own queues); every other request is forwarded to moto unchanged.

This is a local tool: the product talks to these APIs through adapters tested with botocore's
Stubber (chalicelib/aws/lambda_.py, chalicelib/aws/sqs.py).
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import botocore.session

ACCOUNT_LIMIT = 1000
PROVISIONED = re.compile(r"^/2019-09-30/functions/(?P<function>[^/]+)/provisioned-concurrency/?$")
Answer = tuple[int, dict[str, str], bytes]
CLOUDWATCH_OPERATION = re.compile(r"^/service/GraniteServiceVersion20100801/operation/(?P<op>\w+)$")
CLOUDWATCH_GAPS = {
    "PutAlarmMuteRule",
    "GetAlarmMuteRule",
    "DeleteAlarmMuteRule",
    "ListAlarmMuteRules",
    "GetMetricWidgetImage",
}
_CLOUDWATCH = botocore.session.get_session().get_service_model("cloudwatch")
_CBOR_HEADERS = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


class Gaps:
    """The state and the answers for the calls moto lacks."""

    def __init__(self, moto_endpoint: str, region: str = "us-east-1", delay_s: float = 0.0) -> None:
        self.moto = moto_endpoint
        self.region = region
        self.delay_s = delay_s  # added to every answer: AWS's own latency, for benchmarks
        self.provisioned: dict[tuple[str, str], int] = {}
        self.moves: list[dict[str, Any]] = []
        self.mute_rules: dict[str, dict[str, Any]] = {}
        self._handles = itertools.count(1)
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(
            service,  # type: ignore[call-overload]
            region_name=self.region,
            endpoint_url=self.moto,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - the emulator takes any key
        )

    def answer(
        self, method: str, path: str, query: str, headers: Any, body: bytes
    ) -> Answer | None:
        if method == "GET" and path.rstrip("/") == "/2016-08-19/account-settings":
            return _json(200, self.account_settings())
        match = PROVISIONED.match(path)
        if match:
            function = unquote(match["function"]).rsplit(":function:", 1)[-1].split(":")[0]
            params = {k: v[0] for k, v in parse_qs(query).items()}
            return self.provisioned_concurrency(method, function, params, body)
        cbor = CLOUDWATCH_OPERATION.match(path)
        if method == "POST" and cbor and cbor["op"] in CLOUDWATCH_GAPS:
            return self.cloudwatch(cbor["op"], _from_cbor(body), cbor=True)
        target = headers.get("X-Amz-Target", "")
        operation = target.removeprefix("GraniteServiceVersion20100801.")
        if method == "POST" and operation in CLOUDWATCH_GAPS:  # botocore's JSON protocol
            return self.cloudwatch(operation, json.loads(body or b"{}"), cbor=False)
        if method == "POST" and target.startswith("AmazonSQS.") and "MessageMoveTask" in target:
            return self.message_moves(target.removeprefix("AmazonSQS."), json.loads(body or b"{}"))
        return None

    # --- Lambda ------------------------------------------------------------------------------

    def account_settings(self) -> dict[str, Any]:
        lam = self.client("lambda")
        reserved = 0
        functions = 0
        for page in lam.get_paginator("list_functions").paginate():
            for f in page["Functions"]:
                functions += 1
                concurrency = lam.get_function_concurrency(FunctionName=f["FunctionName"])
                reserved += int(concurrency.get("ReservedConcurrentExecutions", 0))
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": ACCOUNT_LIMIT,
                "UnreservedConcurrentExecutions": ACCOUNT_LIMIT - reserved,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": functions},
        }

    def provisioned_concurrency(
        self, method: str, function: str, params: dict[str, str], body: bytes
    ) -> Answer:
        if params.get("List") == "ALL":
            with self._lock:
                configs = [
                    {
                        "FunctionArn": self._function_arn(f, q),
                        **_config(n),
                    }
                    for (f, q), n in self.provisioned.items()
                    if f == function
                ]
            return _json(200, {"ProvisionedConcurrencyConfigs": configs})
        key = (function, params.get("Qualifier", ""))
        with self._lock:
            if method == "PUT":
                n = int(json.loads(body)["ProvisionedConcurrentExecutions"])
                self.provisioned[key] = n
                return _json(202, _config(n))
            current = (
                self.provisioned.pop(key, None) if method == "DELETE" else self.provisioned.get(key)
            )
        if current is None:
            return _error(
                404,
                "ProvisionedConcurrencyConfigNotFoundException",
                f"No Provisioned Concurrency Config found for this function: {function}:{key[1]}",
            )
        return (204, {}, b"") if method == "DELETE" else _json(200, _config(current))

    def _function_arn(self, function: str, qualifier: str) -> str:
        return f"arn:aws:lambda:{self.region}:123456789012:function:{function}:{qualifier}"

    # --- CloudWatch: alarm mute rules and metric widget images (Smithy RPC v2 CBOR) --------

    def cloudwatch(self, operation: str, request: dict[str, Any], cbor: bool) -> Answer:
        """CloudWatch's answer in the protocol it was asked in (Smithy RPC v2 CBOR or JSON)."""
        if isinstance(request.get("ExpireDate"), int | float):
            request["ExpireDate"] = datetime.fromtimestamp(request["ExpireDate"], UTC)
        answer = self._cloudwatch(operation, request)
        if isinstance(answer, str):
            return _cbor_error("ResourceNotFoundException", answer) if cbor else _json_error(answer)
        return _cbor(operation, answer) if cbor else _cloudwatch_json(answer)

    def _cloudwatch(self, operation: str, request: dict[str, Any]) -> dict[str, Any] | str:
        if operation == "GetMetricWidgetImage":
            return {"MetricWidgetImage": self.widget_image(request)}
        name = request.get("Name") or request.get("AlarmMuteRuleName") or ""
        with self._lock:
            if operation == "PutAlarmMuteRule":
                self.mute_rules[name] = {**request, "LastUpdatedTimestamp": datetime.now(UTC)}
                return {}
            if operation == "DeleteAlarmMuteRule":
                self.mute_rules.pop(name, None)
                return {}
            if operation == "ListAlarmMuteRules":
                summaries = [
                    {"AlarmMuteRuleArn": self._rule_arn(n), **_rule_status(r)}
                    for n, r in self.mute_rules.items()
                    if request.get("AlarmName")
                    in (None, *r.get("MuteTargets", {}).get("AlarmNames", []))
                ]
                return {"AlarmMuteRuleSummaries": summaries}
            rule = self.mute_rules.get(name)
        if rule is None:
            return f"no alarm mute rule {name}"
        doc = {k: v for k, v in rule.items() if k != "Tags"}
        return {**doc, "AlarmMuteRuleArn": self._rule_arn(name), **_rule_status(rule)}

    def _rule_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:123456789012:alarm-mute-rule:{name}"

    def widget_image(self, request: dict[str, Any]) -> bytes:
        """A real PNG of the widget's metrics, drawn from moto's data (devtools/png.py)."""
        from datetime import timedelta

        from devtools.png import chart

        widget = json.loads(request.get("MetricWidget") or "{}")
        end = datetime.now(UTC)
        start = end - timedelta(hours=3)
        queries = []
        for i, metric in enumerate(widget.get("metrics", [])):
            options = metric[-1] if metric and isinstance(metric[-1], dict) else {}
            names = [m for m in metric if isinstance(m, str)]
            if len(names) < 2:
                continue
            dims = [{"Name": k, "Value": v} for k, v in zip(names[2::2], names[3::2], strict=False)]
            queries.append(
                {
                    "Id": f"m{i}",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": names[0],
                            "MetricName": names[1],
                            "Dimensions": dims,
                        },
                        "Period": int(options.get("period", widget.get("period", 60))),
                        "Stat": options.get("stat", widget.get("stat", "Sum")),
                    },
                }
            )
        series = []
        if queries:
            data = self.client("cloudwatch").get_metric_data(
                MetricDataQueries=queries, StartTime=start, EndTime=end, ScanBy="TimestampAscending"
            )
            series = [list(r.get("Values", [])) for r in data["MetricDataResults"]]
        lines = [float(a["value"]) for a in (widget.get("annotations") or {}).get("horizontal", [])]
        return chart(series, lines, int(widget.get("width", 600)), int(widget.get("height", 300)))

    # --- SQS message-move tasks ----------------------------------------------------------------

    def message_moves(self, operation: str, request: dict[str, Any]) -> Answer:
        if operation == "StartMessageMoveTask":
            return _json(200, {"TaskHandle": self._start(request)}, sqs=True)
        if operation == "ListMessageMoveTasks":
            with self._lock:
                tasks = [
                    {k: v for k, v in t.items() if not k.startswith("_")}
                    for t in reversed(self.moves)
                    if t["SourceArn"] == request["SourceArn"]
                ]
            return _json(200, {"Results": tasks[: int(request.get("MaxResults", 1))]}, sqs=True)
        with self._lock:
            task = next((t for t in self.moves if t["TaskHandle"] == request["TaskHandle"]), None)
            if task is None or task["Status"] != "RUNNING":
                return _error(400, "ResourceNotFoundException", "no running task", sqs=True)
            task["Status"] = "CANCELLING"
        return _json(
            200,
            {"ApproximateNumberOfMessagesMoved": task["ApproximateNumberOfMessagesMoved"]},
            sqs=True,
        )

    def _start(self, request: dict[str, Any]) -> str:
        sqs = self.client("sqs")
        source = sqs.get_queue_url(QueueName=request["SourceArn"].rsplit(":", 1)[-1])["QueueUrl"]
        if request.get("DestinationArn"):
            destination = sqs.get_queue_url(QueueName=request["DestinationArn"].rsplit(":", 1)[-1])[
                "QueueUrl"
            ]
        else:
            destination = sqs.list_dead_letter_source_queues(QueueUrl=source)["queueUrls"][0]
        depth = int(
            sqs.get_queue_attributes(
                QueueUrl=source, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]["ApproximateNumberOfMessages"]
        )
        task = {
            "TaskHandle": f"local-move-{next(self._handles)}",
            "Status": "RUNNING",
            "SourceArn": request["SourceArn"],
            "MaxNumberOfMessagesPerSecond": int(request.get("MaxNumberOfMessagesPerSecond", 500)),
            "ApproximateNumberOfMessagesMoved": 0,
            "ApproximateNumberOfMessagesToMove": depth,
            "StartedTimestamp": int(time.time() * 1000),
        }
        with self._lock:
            self.moves.append(task)
        threading.Thread(target=self._move, args=(task, source, destination), daemon=True).start()
        return str(task["TaskHandle"])

    def _move(self, task: dict[str, Any], source: str, destination: str) -> None:
        sqs = self.client("sqs")
        interval = 1.0 / max(1, int(task["MaxNumberOfMessagesPerSecond"]))
        while task["Status"] == "RUNNING":
            messages = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=1).get(
                "Messages", []
            )
            if not messages:
                task["Status"] = "COMPLETED"
                return
            sqs.send_message(QueueUrl=destination, MessageBody=messages[0]["Body"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=messages[0]["ReceiptHandle"])
            with self._lock:
                task["ApproximateNumberOfMessagesMoved"] += 1
            time.sleep(interval)
        with self._lock:
            task["Status"] = "CANCELLED"


def _config(n: int) -> dict[str, Any]:
    return {
        "RequestedProvisionedConcurrentExecutions": n,
        "AllocatedProvisionedConcurrentExecutions": n,
        "AvailableProvisionedConcurrentExecutions": n,
        "Status": "READY",
        "LastModified": datetime.now(UTC).isoformat(),
    }


def _rule_status(rule: dict[str, Any]) -> dict[str, Any]:
    expires = rule.get("ExpireDate")
    active = expires is None or expires > datetime.now(UTC)
    return {"Status": "ACTIVE" if active else "EXPIRED", "MuteType": "ONE_TIME"}


def _from_cbor(body: bytes) -> dict[str, Any]:
    from botocore.parsers import RpcV2CBORParser

    parser = RpcV2CBORParser()
    return dict(parser.parse_data_item(parser.get_peekable_stream_from_bytes(body))) if body else {}


def _cloudwatch_json(doc: dict[str, Any]) -> Answer:
    import base64

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(plain(doc)).encode()


def _json_error(message: str) -> Answer:
    doc = {"__type": "ResourceNotFoundException", "message": message}
    return 400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(doc).encode()


def _cbor(operation: str, doc: dict[str, Any]) -> Answer:
    from botocore.serialize import RpcV2CBORSerializer

    shape = _CLOUDWATCH.operation_model(operation).output_shape
    body = bytearray()
    if shape is not None:
        RpcV2CBORSerializer()._serialize_data_item(body, doc, shape)
    return 200, _CBOR_HEADERS.copy(), bytes(body)


def _cbor_error(code: str, message: str) -> Answer:
    """An error as Smithy RPC v2 CBOR carries it: a map of `__type` and `message`."""

    def head(major: int, n: int) -> bytes:
        if n < 24:
            return bytes([major << 5 | n])
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")

    def text(value: str) -> bytes:
        raw = value.encode()
        return head(3, len(raw)) + raw

    body = head(5, 2) + text("__type") + text(code) + text("message") + text(message)
    return 400, _CBOR_HEADERS.copy(), body


def _json(status: int, doc: dict[str, Any], sqs: bool = False) -> Answer:
    kind = "application/x-amz-json-1.0" if sqs else "application/json"
    return status, {"Content-Type": kind}, json.dumps(doc).encode()


def _error(status: int, code: str, message: str, sqs: bool = False) -> Answer:
    doc = {"__type": code, "message": message} if sqs else {"Type": "User", "message": message}
    answer = _json(status, doc, sqs)
    answer[1]["x-amzn-ErrorType"] = code
    return answer


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.gaps.delay_s:
            time.sleep(self.server.gaps.delay_s)
        url = urlsplit(self.path)
        answer = self.server.gaps.answer(self.command, url.path, url.query, self.headers, body)
        if answer is None:
            answer = self._forward(body)
        status, headers, payload = answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self, body: bytes) -> Answer:
        target = urlsplit(self.server.gaps.moto)
        connection = http.client.HTTPConnection(
            target.hostname or "127.0.0.1", target.port, timeout=60
        )
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        skip = {"content-length", "transfer-encoding", "connection", "server", "date"}
        relayed = {k: v for k, v in response.getheaders() if k.lower() not in skip}
        connection.close()
        return response.status, relayed, payload

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def log_message(self, format: str, *args: Any) -> None:  # quiet by design
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, gaps: Gaps) -> None:
        self.gaps = gaps
        super().__init__(("127.0.0.1", 0), _Handler)


class AwsGapsServer:
    """The front on 127.0.0.1 in a background thread; `url` is what AWS_ENDPOINT_URL should be."""

    def __init__(self, moto_endpoint: str, region: str = "us-east-1", delay_s: float = 0.0) -> None:
        self.gaps = Gaps(moto_endpoint, region, delay_s)
        self._server = _Server(self.gaps)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one interval
            name="aws-gaps",
            daemon=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> AwsGapsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
