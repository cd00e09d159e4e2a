"""What one OTLP export request became: the rows to write, and what was rejected (OTLP partial success).

Every transport maps a decoded request with ``map_request`` and answers with ``response_for``. Nothing is
rejected today; a per-row rule (a size or rate limit, say) belongs in ``map_request`` and reports what it
dropped in ``Mapped.rejected``, so that clients see it in ``partial_success`` as the spec asks:
https://opentelemetry.io/docs/specs/otlp/#partial-success
"""

from __future__ import annotations

from dataclasses import dataclass

from .decode import RESPONSE_TYPES
from .mapping import TO_ROWS, Batch

# ExportXPartialSuccess: the count field differs per signal.
REJECTED_FIELDS = {"logs": "rejected_log_records", "metrics": "rejected_data_points", "traces": "rejected_spans"}


@dataclass(frozen=True)
class Mapped:
    batch: Batch
    rejected: int = 0  # log records, data points or spans not written
    error_message: str = ""  # why, for the client's log


def map_request(signal: str, request) -> Mapped:
    """An export request (logs, metrics, traces) -> its rows, all of them accepted."""
    return Mapped(TO_ROWS[signal](request))


def response_for(signal: str, mapped: Mapped):
    """The ExportServiceResponse: empty when everything was accepted, ``partial_success`` filled otherwise."""
    response = RESPONSE_TYPES[signal]()
    if mapped.rejected or mapped.error_message:
        setattr(response.partial_success, REJECTED_FIELDS[signal], mapped.rejected)
        response.partial_success.error_message = mapped.error_message
    return response
