"""The FastAPI application: OTLP receiver, reports, health, OpenAPI at /docs."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .. import __version__
from ..config import Settings, get_settings
from ..errors import TelemetryError
from .routes import cost, health, imports, otlp, reports
from .state import ServiceState


def error_body(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message, "code": code, "status": status}, status_code=status)


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
    )

    @app.exception_handler(TelemetryError)
    async def telemetry_error(request: Request, exc: TelemetryError):
        response = error_body(exc.status, exc.code, exc.message)
        if exc.status == 503:
            response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_body(400, "bad_request", f"{where}: {first.get('msg', 'invalid request')}")

    if state is not None:
        app.state.service = state
    app.include_router(otlp.router)
    app.include_router(health.router)
    app.include_router(reports.router)
    app.include_router(cost.router)
    app.include_router(imports.router)
    return app
