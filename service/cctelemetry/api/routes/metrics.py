"""``GET /metrics``: Prometheus exposition of the usage counters (from the store, reports/metrics.py) and the
service's health (api/service_metrics.py), built with the official client library. The same registry is served
on ``CCTELEMETRY_METRICS_PORT`` (8889) in embedded mode (api/metrics_listener.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import choose_encoder
from starlette.concurrency import run_in_threadpool

from ..deps import get_state

router = APIRouter(tags=["metrics"])


@router.get("/metrics", summary="Prometheus metrics: usage counters from the store, and the service's health",
            response_class=Response)  # fmt: skip
async def metrics(request: Request) -> Response:
    """Counters are totals since the beginning, computed from the store, so they agree with `/api/v1/usage` and
    a restart changes nothing; names are those the collector's Prometheus exporter gives the agents' metrics
    (`claude_code_token_usage_tokens_total`, `claude_code_cost_usage_USD_total`, ...). OpenMetrics when the
    `Accept` header asks for it."""
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    body = await run_in_threadpool(encoder, get_state(request).metrics.registry)
    return Response(body, media_type=content_type)
