"""Report bodies as JSON (the default) or CSV (``?format=csv``)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response

from ..errors import BadRequest
from ..reports.export import to_csv


def report_response(body: dict[str, Any], fmt: str | None, rows_key: str = "rows", filename: str = "report"):
    if fmt in (None, "", "json"):
        return JSONResponse(body)
    if fmt == "csv":
        return Response(
            to_csv(body.get(rows_key) or []),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    raise BadRequest(f"unknown format {fmt!r}: use json or csv")
