"""The dashboard: a static single-page app (``cctelemetry/web/``) at ``/``, its files under ``/ui/``.

The page reads only the public API (``/api/v1/...``), so everything it shows can be scripted. Nothing is
fetched from the internet and nothing is built at install time: the charting library is a vendored file.

Caching: ``/`` and the app's own files are revalidated on every load (``no-cache`` with an ETag, a cheap
304 when unchanged), so an upgraded service is seen at once; the vendored library lives in a folder named
for its version and is cached for good.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

WEB = resources.files("cctelemetry").joinpath("web")
ASSETS = "/ui"
REVALIDATE = "no-cache"
FOREVER = "public, max-age=31536000, immutable"

router = APIRouter(tags=["dashboard"])


class WebFiles(StaticFiles):
    """The app's files with the cache policy above; ``/ui/`` lists nothing (no directory pages)."""

    def file_response(self, full_path, stat_result, scope: Scope, status_code: int = 200):
        response = super().file_response(full_path, stat_result, scope, status_code)
        vendored = self.get_path(scope).split("/", 1)[0] == "vendor"
        response.headers["Cache-Control"] = FOREVER if vendored else REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def dashboard() -> FileResponse:
    return FileResponse(str(WEB.joinpath("index.html")), media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": REVALIDATE, "X-Content-Type-Options": "nosniff"})  # fmt: skip


def install_dashboard(app) -> None:
    """``/`` and ``/ui/...`` on ``app``."""
    app.mount(ASSETS, WebFiles(directory=str(WEB)), name="ui")
    app.include_router(router)
