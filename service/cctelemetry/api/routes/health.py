from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ... import __version__
from ..deps import SettingsDep, StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and store reachability")
def healthz(store: StoreDep, settings: SettingsDep):
    """200 while the store answers; else 503 (with Retry-After) in the one error shape, saying why."""
    why = store.probe()
    body = {"ok": not why, "version": __version__, "store": store.target.describe(), "database": store.database}
    if not why:
        return JSONResponse(body)
    body.update(error=why, code="store_unavailable", status=503)
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
