"""FastAPI dependencies: the store, the writer and settings of the running service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from ..config import Settings
from ..ingest import BatchWriter
from ..reports.query import RequestFilter
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


StoreDep = Annotated[Store, Depends(get_store)]
WriterDep = Annotated[BatchWriter, Depends(get_writer)]
SettingsDep = Annotated[Settings, Depends(get_settings)]

# Dimension filters ride on the query string as <dim>=<value>; these names are not filters.
RESERVED_PARAMS = {"group_by", "since", "until", "tz", "format", "limit", "offset", "mode", "period", "breakdown",
                   "tolerance"}  # fmt: skip


def request_filter(
    request: Request,
    settings: SettingsDep,
    since: Annotated[str | None, Query(description="Start: 2026-11-01, 2026-11-01T09:00, or 7d / 24h ago")] = None,
    until: Annotated[str | None, Query(description="End (exclusive), same forms as since")] = None,
    tz: Annotated[str | None, Query(description="IANA time zone for day/hour; default the server's")] = None,
) -> RequestFilter:
    filters = {k: v for k, v in request.query_params.items() if k not in RESERVED_PARAMS}
    return RequestFilter.build(since, until, tz or settings.resolved_tz(), filters, settings.agent_type_attribute)


FilterDep = Annotated[RequestFilter, Depends(request_filter)]
