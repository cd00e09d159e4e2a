"""Report bodies as JSON (the default) or CSV (``?format=csv``)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from fastapi.responses import JSONResponse, Response

from ..errors import BadRequest


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


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else value
