from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ... import __version__
from ..deps import SettingsDep, StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and store reachability")
def healthz(store: StoreDep, settings: SettingsDep):
    ok = store.ping()
    body = {"ok": ok, "version": __version__, "store": store.target.describe(), "database": store.database}
    return JSONResponse(body, status_code=200 if ok else 503)
