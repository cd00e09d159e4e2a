"""The FastAPI application: OTLP receiver, reports, health, OpenAPI at /docs.

Every answer that is not a success leaves in one shape, ``{"ok": false, "error", "code", "status"}``:
project errors with their own status, FastAPI's validation errors and unknown routes as the HTTP status
they are, and anything unexpected as a 500 that is logged (a bug, never the client's input).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..config import Settings, get_settings
from ..errors import StoreError, StoreUnavailable, TelemetryError, WriteQueueFull
from .auth import install_auth
from .docs import install_docs
from .routes import blocks, budgets, cost, dashboard, health, imports, insights, live, metrics, otlp, reports, signals
from .service_metrics import IngestStatusMiddleware, ServiceMetrics
from .state import ServiceState

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def error_body(status: int, code: str, message: str) -> JSONResponse:
    response = JSONResponse({"ok": False, "error": message, "code": code, "status": status}, status_code=status)
    if status in (429, 503):
        response.headers["Retry-After"] = "5"
    return response


def create_app(settings: Settings | None = None, state: ServiceState | None = None) -> FastAPI:
    """Build the app. ``state`` lets tests (and ``serve``) share one opened store across apps."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        owned = state is None
        app.state.service = state or ServiceState.open(settings or get_settings())
        yield
        if owned:
            app.state.service.close()

    app = FastAPI(
        title="cctelemetry",
        version=__version__,
        description="What AI coding agents cost: OTLP in, ClickHouse inside, usage and cost reports out.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    @app.exception_handler(TelemetryError)
    async def telemetry_error(request: Request, exc: TelemetryError):
        if isinstance(exc, (StoreError, StoreUnavailable)) and not isinstance(exc, WriteQueueFull):
            request.app.state.service.metrics.store_error("read", exc)
        if exc.status >= 500 and exc.status != 503:
            log.error("request failed", extra={"path": request.url.path, "code": exc.code, "error": exc.message})
        return error_body(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_body(400, "bad_request", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "bad_request" if exc.status_code < 500 else "internal_error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
        return error_body(exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception):
        log.exception("unexpected error", extra={"path": request.url.path})
        return error_body(500, "internal_error", f"unexpected error ({type(exc).__name__}); see the service's log")

    if state is not None:
        app.state.service = state
    install_auth(app, state.settings if state is not None else settings or get_settings())
    install_docs(app)
    app.include_router(otlp.router)
    app.include_router(health.router)
    app.include_router(blocks.router)
    app.include_router(live.router)  # before reports: /sessions/current is not a session id
    app.include_router(reports.router)
    app.include_router(cost.router)
    app.include_router(imports.router)
    app.include_router(signals.router)
    app.include_router(metrics.router)
    app.include_router(budgets.router)
    app.include_router(insights.router)
    app.add_middleware(IngestStatusMiddleware, metrics=_service_metrics)
    dashboard.install_dashboard(app)
    return app


def _service_metrics(app) -> ServiceMetrics | None:
    service = getattr(getattr(app, "state", None), "service", None)
    return getattr(service, "metrics", None)
