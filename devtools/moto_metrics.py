"""moto's GetMetricData, narrowed to the metrics a request names before it is answered.

moto 5 answers every MetricStat query by scanning every datum of the account and region once per
period: with a seeded fleet (30 functions, a few metrics, a point a minute) one diagnosis spent
seconds there, and the suite minutes. `install()` hands moto's own implementation only the data
that some query of the request could match (by moto's own rules: a query with dimensions matches
on name and dimensions, one without on namespace and name), so its answers are unchanged
(tests/unit/test_moto_metrics.py compares them) and their cost follows the request, not the fleet.
A request with a Metrics Insights query (`SELECT …`), which moto answers from all data, is left
as it is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

_MARK = "_shepherd_narrowed"


class _Narrowed:
    """The backend as get_metric_data sees it: every attribute its own but the data."""

    def __init__(self, backend: Any, data: list[Any]) -> None:
        self._backend = backend
        self._data = data

    def get_all_metrics(self) -> list[Any]:
        return self._data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def _wanted(queries: list[dict[str, Any]]) -> dict[str, list[tuple[str, list[tuple[str, str]]]]]:
    """Metric name -> (namespace, dimensions) of each MetricStat query for it."""
    wanted: dict[str, list[tuple[str, list[tuple[str, str]]]]] = defaultdict(list)
    for query in queries:
        if "MetricStat" in query:
            metric = query["MetricStat"]["Metric"]
            dims = [(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])]
            wanted[metric["MetricName"]].append((metric["Namespace"], dims))
    return wanted


def _may_match(datum: Any, asks: list[tuple[str, list[tuple[str, str]]]]) -> bool:
    for namespace, dims in asks:
        if not dims:
            if datum.namespace == namespace:
                return True
        elif len(datum.dimensions) == len(dims) and all(
            (d.name, d.value) in dims for d in datum.dimensions
        ):
            return True  # a superset of moto's match (it compares sorted lists): never fewer
    return False


def install() -> None:
    """Narrow CloudWatchBackend.get_metric_data, once per process (in-process and server)."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.get_metric_data
    if getattr(original, _MARK, False):
        return

    def get_metric_data(
        self: Any,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if any(str(q.get("Expression", "")).startswith("SELECT") for q in queries):
            return original(self, queries, start_time, end_time, scan_by)
        wanted = _wanted(queries)
        data = [
            d for d in self.get_all_metrics() if d.name in wanted and _may_match(d, wanted[d.name])
        ]
        return original(_Narrowed(self, data), queries, start_time, end_time, scan_by)

    setattr(get_metric_data, _MARK, True)
    get_metric_data.__wrapped__ = original  # type: ignore[attr-defined]
    CloudWatchBackend.get_metric_data = get_metric_data  # type: ignore[method-assign]
