"""A thin Python client for a running cctelemetry service, with the standard library only (it imports in
milliseconds, which the CLI and the statusline need).

    from cctelemetry.client import Client
    c = Client("http://127.0.0.1:8000")
    c.usage(group_by="model", since="7d")["totals"]["cost_usd"]

Its report methods have the names and parameters of the report layer (cctelemetry/reports/catalog.py) and
return the API's JSON bodies. Errors come back as the project's errors (cctelemetry/errors.py): an
unreachable service is ``StoreUnavailable`` with a one-line message.
"""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .errors import BadRequest, StoreUnavailable, TelemetryError




class Client:
    def __init__(self, url: str = "http://127.0.0.1:8000", token: str | None = None, timeout: float = 60.0):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequest(f"not a service URL: {url!r} (e.g. http://127.0.0.1:8000)")
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._scheme, self._host, self._prefix = parts.scheme, parts.hostname, parts.path.rstrip("/")
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self.token = token
        self.timeout = timeout

    # -- transport ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None,
                timeout: float | None = None, raw: bytes | None = None,
                headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        """``body`` goes as JSON; ``raw`` as is, with the ``headers`` given (its Content-Type among them)."""
        query = urlencode([(k, _param(v)) for k, v in (params or {}).items() if v is not None])
        target = self._prefix + path + (f"?{query}" if query else "")
        headers = {"Accept": "application/json", **(headers or {})}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = cls(self._host, self._port, timeout=timeout if timeout is not None else self.timeout)
        try:
            conn.request(method, target, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            reason = "timed out" if isinstance(exc, socket.timeout) else (exc.strerror or str(exc) or type(exc).__name__)
            raise StoreUnavailable(f"the cctelemetry service at {self.url} does not answer ({reason})") from exc
        finally:
            conn.close()
        return _decode(response.status, raw, self.url)

    def get(self, path: str, params: dict[str, Any] | None = None, **kw) -> Any:
        return self.request("GET", path, params, **kw)

    def post(self, path: str, body: Any = None, params: dict[str, Any] | None = None, **kw) -> Any:
        return self.request("POST", path, params, body if body is not None else {}, **kw)

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            return bool(self.request("GET", "/healthz", timeout=timeout).get("ok"))
        except TelemetryError:
            return False

    # -- reports (the report layer's names and parameters) ------------------------------------------

    def usage(self, group_by=None, since=None, until=None, tz=None, mode=None, breakdown=False, limit=None,
              filters=None) -> dict:  # fmt: skip
        return self.get("/api/v1/usage", {"group_by": group_by, "since": since, "until": until, "tz": tz,
                                          "mode": mode, "breakdown": breakdown or None, "limit": limit,
                                          **(filters or {})})  # fmt: skip

    def cost(self, group_by=None, period=None, since=None, until=None, tz=None, mode=None, limit=None,
             filters=None) -> dict:  # fmt: skip
        return self.get("/api/v1/cost", {"group_by": group_by, "period": period, "since": since, "until": until,
                                         "tz": tz, "mode": mode, "limit": limit, **(filters or {})})  # fmt: skip

    def reconcile(self, group_by="request", tolerance=None, since=None, until=None, tz=None, limit=None,
                  filters=None) -> dict:  # fmt: skip
        return self.get("/api/v1/cost/reconcile", {"group_by": group_by, "tolerance": tolerance, "since": since,
                                                   "until": until, "tz": tz, "limit": limit,
                                                   **(filters or {})})  # fmt: skip

    def prices(self, model=None, day=None) -> dict:
        return self.get("/api/v1/prices", {"model": model, "day": day})

    def sessions(self, since=None, until=None, tz=None, mode=None, limit=None, offset=None, order=None,
                 filters=None) -> dict:  # fmt: skip
        return self.get("/api/v1/sessions", {"since": since, "until": until, "tz": tz, "mode": mode, "limit": limit,
                                             "offset": offset, "order": order, **(filters or {})})  # fmt: skip

    def session(self, session_id: str, since=None, until=None, tz=None, mode=None, filters=None) -> dict:
        return self.get(f"/api/v1/sessions/{quote(session_id, safe='')}",
                        {"since": since, "until": until, "tz": tz, "mode": mode, **(filters or {})})  # fmt: skip

    def sql(self, query: str, limit=None) -> dict:
        return self.post("/api/v1/sql", {"query": query}, {"limit": limit})

    def import_(self, paths: list[str] | None = None, **body: Any) -> dict:
        return self.post("/api/v1/import", {"paths": paths, **body}, timeout=None)

    def import_upload(self, push: bytes, gzipped: bool = True) -> dict:
        """Send a push of session files to a hub (ingest/transcripts/upload.py has its format)."""
        headers = {"Content-Type": "application/x-tar", **({"Content-Encoding": "gzip"} if gzipped else {})}
        return self.request("POST", "/api/v1/import/upload", raw=push, headers=headers, timeout=None)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decode(status: int, raw: bytes, url: str) -> Any:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if status < 400:
        if body is None and raw:
            raise StoreUnavailable(f"the service at {url} answered with something that is not JSON")
        return body
    message = body.get("error") if isinstance(body, dict) else raw.decode(errors="replace")[:300]
    error = TelemetryError(message or f"HTTP {status}")
    error.status = status
    error.code = body.get("code", "error") if isinstance(body, dict) else "error"
    raise error
