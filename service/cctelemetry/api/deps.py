"""FastAPI dependencies: the running service's store, writer, settings and report door."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from ..config import Settings
from ..ingest import BatchWriter, IngestPolicy
from ..reports.catalog import Reports
from ..store import Store
from .state import ServiceState


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


def get_store(request: Request) -> Store:
    return get_state(request).store


def get_writer(request: Request) -> BatchWriter:
    return get_state(request).writer


def get_settings(request: Request) -> Settings:
    return get_state(request).settings


def get_reports(request: Request) -> Reports:
    return get_state(request).reports


def get_policy(request: Request) -> IngestPolicy:
    return get_state(request).policy


StoreDep = Annotated[Store, Depends(get_store)]
WriterDep = Annotated[BatchWriter, Depends(get_writer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ReportsDep = Annotated[Reports, Depends(get_reports)]
PolicyDep = Annotated[IngestPolicy, Depends(get_policy)]

# Dimension filters ride on the query string as <dim>=<value>; these names are the reports' own parameters.
RESERVED_PARAMS = {"group_by", "since", "until", "tz", "format", "limit", "offset", "mode", "period", "breakdown",
                   "tolerance", "order", "day", "active", "recent", "token_limit", "active_minutes", "history", "color",
                   "cwd"}  # fmt: skip

Since = Annotated[str | None, Query(description="Start: 2026-11-01, 2026-11-01T09:00, or 7d / 24h ago")]
Until = Annotated[str | None, Query(description="End (exclusive), same forms as since")]
Tz = Annotated[str | None, Query(description="IANA time zone for day/hour/week/month; default the server's")]
Format = Annotated[str | None, Query(description="json (default) or csv")]
Mode = Annotated[str | None, Query(description="auto | calculate | display; default the service's setting")]


def filters(request: Request) -> dict[str, str]:
    """``<dimension>=<value>`` pairs of the query string (``model=...``, ``attr.team=...``)."""
    return {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMS}


FiltersDep = Annotated[dict[str, str], Depends(filters)]
