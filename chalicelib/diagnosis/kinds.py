"""What a cause may be: the vocabulary of PRODUCT.md §3. Light: read where diagnosing is not."""

# The vocabulary of PRODUCT.md §3 (add kinds, never rename): what a cause may be.
KINDS = frozenset(
    {
        *("timeout", "out_of_memory", "throttling", "recent_deploy", "permission_denied"),
        *("downstream_throttling", "code_error", "dlq_backlog", "dlq_delivery_failure"),
        *("iterator_age", "no_invocations", "over_provisioned_memory", "cold_starts"),
        *("memory_pressure", "new_error", "duration_anomaly", "invocation_spike"),
        *("async_backlog", "recursive_loop", "event_source_failure", "account_concurrency"),
        *("misconfiguration", "unknown"),
    }
)
