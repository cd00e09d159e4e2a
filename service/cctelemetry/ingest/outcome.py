"""What one OTLP export request became: the rows to write, and what was rejected (OTLP partial success).

Every transport maps a decoded request with ``map_request`` and answers with ``response_for``. The ingest
policy (policy.py: size limits, prompt content, emails) is applied there, once for every transport. What it
cut is told in ``partial_success`` with 0 rejected and an ``error_message``, which the spec allows as a
warning; a rule that drops whole rows would count them in ``Mapped.rejected``:
https://opentelemetry.io/docs/specs/otlp/#partial-success
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .decode import RESPONSE_TYPES
from .mapping import TO_ROWS, Batch
from .policy import IngestPolicy, apply, check_size

log = logging.getLogger(__name__)
DEFAULT_POLICY = IngestPolicy()

# ExportXPartialSuccess: the count field differs per signal.
REJECTED_FIELDS = {"logs": "rejected_log_records", "metrics": "rejected_data_points", "traces": "rejected_spans"}


@dataclass(frozen=True)
class Mapped:
    batch: Batch
    rejected: int = 0  # log records, data points or spans not written
    error_message: str = ""  # why, for the client's log


def map_request(signal: str, request, policy: IngestPolicy = DEFAULT_POLICY) -> Mapped:
    """An export request (logs, metrics, traces) -> its rows, limited and redacted by ``policy``.
    Raises PayloadTooLarge for more items than the policy allows in one request."""
    check_size(signal, request, policy)
    batch = TO_ROWS[signal](request)
    counts = apply(batch, policy)
    message = counts.message(policy)
    if message:
        log.warning(
            "otlp request cut to the limits",
            extra={
                "signal": signal,
                "rejected": counts.rejected,
                "truncated": counts.truncated,
                "dropped": counts.dropped,
            },
        )
    return Mapped(batch, counts.rejected, message)


def response_for(signal: str, mapped: Mapped):
    """The ExportServiceResponse: empty when everything was accepted, ``partial_success`` filled otherwise."""
    response = RESPONSE_TYPES[signal]()
    if mapped.rejected or mapped.error_message:
        setattr(response.partial_success, REJECTED_FIELDS[signal], mapped.rejected)
        response.partial_success.error_message = mapped.error_message
    return response
