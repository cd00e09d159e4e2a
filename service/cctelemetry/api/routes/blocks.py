"""5-hour blocks: per person, with ccusage's rules. Thin over the report layer (reports/blocks.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...reports.results import BlockReport
from ..deps import FiltersDep, Format, Mode, ReportsDep, Since, Tz, Until
from ..render import report_response

router = APIRouter(prefix="/api/v1", tags=["blocks"])


@router.get(
    "/blocks", summary="5-hour blocks per person: usage, cost, burn rate, projection", response_model=BlockReport
)
def get_blocks(
    reports: ReportsDep,
    filters: FiltersDep,
    active: Annotated[bool, Query(description="Only the active blocks (with projections)")] = False,
    recent: Annotated[bool, Query(description="Only the blocks of the last 3 days (and active ones)")] = False,
    token_limit: Annotated[
        str | None,
        Query(
            description="Tokens per block to measure against: a number, or max "
            "(the most tokens of a completed block listed)"
        ),
    ] = None,  # fmt: skip
    since: Since = None,
    until: Until = None,
    tz: Tz = None,
    mode: Mode = None,
    format: Format = None,
):
    """A block starts at its first request floored to the hour and lasts 5 hours; a request more than 5 hours
    after the block's start, or after a 5-hour pause, starts the next one, and a pause is listed as a gap
    block (`is_gap`). Blocks never mix people: each has a `user`; filter with `user=...` or any dimension.
    `since`/`until` choose blocks by their start. The active block has a `projection` and `minutes_remaining`."""
    body = reports.blocks(active, recent, token_limit, since, until, tz, mode, filters)
    return report_response(body, format, rows_key="blocks", filename="blocks")
