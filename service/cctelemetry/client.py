"""A thin Python client for a running cctelemetry service, with the standard library only (it imports in
milliseconds, which the CLI and the statusline need).

    from cctelemetry.client import Client
    c = Client("http://127.0.0.1:8000")
    c.usage(group_by="model", since="7d")["totals"]["cost_usd"]
    c.blocks(active=True)["blocks"]                      # the active 5-hour block of each person
    c.run(["claude", "-p", "fix the tests"], attributes={"ticket": "ABC-1"})["cost_usd"]
    for update in c.watch_session("current", interval=2): ...

Its report methods have the names and parameters of the report layer (cctelemetry/reports/catalog.py) and
return the API's JSON bodies. Errors come back as the project's errors (cctelemetry/errors.py): an
unreachable service is ``StoreUnavailable`` with a one-line message.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .errors import BadRequest, StoreUnavailable, TelemetryError

RUN_ID_ATTRIBUTE = "cctelemetry.run_id"
RUN_WAIT_S = 15.0  # after the agent exits, at most this long for its last export
RUN_SETTLE_S = 1.5  # the run's request count unchanged this long: its export is in
EXPORT_INTERVAL_MS = "1000"  # the agent's telemetry export interval during a run (defaults are 5 s and 60 s)
# The agent's own per-signal exporter settings would send its telemetry elsewhere: a run replaces them.
_PER_SIGNAL = ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
               "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")  # fmt: skip


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
                timeout: float | None = None, text: bool = False, raw: bytes | None = None,
                headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        """The JSON answer, or with ``text`` the body as text (GET /metrics). ``body`` goes as JSON; ``raw`` as
        is, with the ``headers`` given (its Content-Type among them)."""
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
            reason = (
                "timed out"
                if isinstance(exc, socket.timeout)
                else (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
            )
            raise StoreUnavailable(f"the cctelemetry service at {self.url} does not answer ({reason})") from exc
        finally:
            conn.close()
        if text and response.status < 400:
            return raw.decode()
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

    def blocks(self, active=False, recent=False, token_limit=None, since=None, until=None, tz=None, mode=None,
               filters=None) -> dict:  # fmt: skip
        """5-hour blocks per person (``GET /api/v1/blocks``): ``{"blocks": [...], "totals": {...}}``."""
        return self.get("/api/v1/blocks", {"active": active or None, "recent": recent or None,
                                           "token_limit": token_limit, "since": since, "until": until, "tz": tz,
                                           "mode": mode, **(filters or {})})  # fmt: skip

    def limits(self, since=None, until=None, history=None, filters=None) -> dict:
        """Official rate limits (``GET /api/v1/limits``): ``windows``, ``history``, ``calibration``."""
        return self.get("/api/v1/limits", {"since": since, "until": until, "history": history, **(filters or {})})

    def monitor(self, session=None, active_minutes=None, tz=None, mode=None, filters=None) -> dict:
        """What is happening now (``GET /api/v1/monitor``): active sessions and blocks, limits, today."""
        return self.get("/api/v1/monitor", {"session": session, "active_minutes": active_minutes, "tz": tz,
                                            "mode": mode, **(filters or {})})  # fmt: skip

    def current_session(self, project=None, cwd=None, since=None, until=None, tz=None, mode=None,
                        filters=None) -> dict:  # fmt: skip
        """The session with the latest request (``GET /api/v1/sessions/current``), with ``current``."""
        return self.get("/api/v1/sessions/current", {"project": project, "cwd": cwd, "since": since, "until": until,
                                                     "tz": tz, "mode": mode, **(filters or {})})  # fmt: skip

    def statusline(self, hook_input: dict, color: bool = True) -> dict:
        """``POST /api/v1/statusline``: records the input's rate limits; ``{"line", "figures", ...}``."""
        return self.post("/api/v1/statusline", hook_input, {"color": color})

    # -- runs and watching ---------------------------------------------------------------------------

    def run(self, args: list[str], attributes: dict[str, str] | None = None, agent_type: str | None = None,
            wait: float = RUN_WAIT_S, capture_output: bool = False, env: dict[str, str] | None = None,
            cwd: str | None = None, input: bytes | None = None) -> dict:  # fmt: skip
        """Run an agent CLI (``["claude", "-p", "..."]``) with its telemetry sent here, tagged with a run id
        (resource attribute ``cctelemetry.run_id``), ``attributes`` and ``agent.type``; wait until its requests
        have arrived (at most ``wait`` seconds after it exits); return their cost and tokens:
        ``{"run_id", "exit_code", "requests", "input_tokens", ..., "cost_usd", "reported_cost_usd",
        "session_ids", "models", "complete"}`` (and ``stdout``/``stderr`` with ``capture_output``).

        Its stdin, stdout and stderr are this process's unless ``capture_output`` / ``input``. Ctrl-C goes to
        the agent (the terminal sends it to both); this side waits for it to end."""
        import signal
        import subprocess
        import uuid

        run_id = uuid.uuid4().hex
        tags = {**(attributes or {}), **({"agent.type": agent_type} if agent_type else {}), RUN_ID_ATTRIBUTE: run_id}
        child_env = telemetry_env(env if env is not None else dict(os.environ), self.url, tags)
        pipe = subprocess.PIPE if capture_output else None
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if _main_thread() else None
        try:
            proc = subprocess.Popen(args, env=child_env, cwd=cwd, stdout=pipe, stderr=pipe,
                                    stdin=subprocess.PIPE if input is not None else None)  # fmt: skip
            out, err = proc.communicate(input)
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        result = self.run_usage(run_id, wait)
        result.update(run_id=run_id, exit_code=proc.returncode, command=list(args), attributes=tags)
        if capture_output:
            result.update(stdout=out, stderr=err)
        return result

    def run_usage(self, run_id: str, wait: float = RUN_WAIT_S, settle: float = RUN_SETTLE_S) -> dict:
        """The requests tagged with ``run_id``, once their count has not changed for ``settle`` seconds (the
        agent flushes its telemetry when it exits), or after ``wait`` seconds."""
        started = time.monotonic()
        seen, stable_since, body = -1, started, None
        while True:
            body = self.usage(group_by="session,model", filters={f"attr.{RUN_ID_ATTRIBUTE}": run_id})
            count = body["totals"].get("requests") or 0
            now = time.monotonic()
            if count != seen:
                seen, stable_since = count, now
            if (count and now - stable_since >= settle) or now - started >= wait:
                break
            time.sleep(0.2)
        totals = body["totals"]
        return {
            "requests": totals.get("requests") or 0,
            **{
                k: totals.get(k) or 0
                for k in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens")
            },
            "cost_usd": totals.get("cost_usd"),
            "reported_cost_usd": totals.get("reported_cost_usd"),
            "computed_cost_usd": totals.get("computed_cost_usd"),
            "mode": body.get("mode"),
            "session_ids": sorted({r["session"] for r in body["rows"]}),
            "models": sorted({r["model"] for r in body["rows"]}),
            "by_model": _by_model(body["rows"]),
            "complete": bool(seen) and time.monotonic() - started < wait,
            "waited_seconds": round(time.monotonic() - started, 3),
        }

    def watch_session(self, session_id: str = "current", interval: float = 2.0, project: str | None = None,
                      cwd: str | None = None) -> Iterator[dict]:  # fmt: skip
        """Yield the session's row (cost, tokens, burn rate, cache hit ratio, its person's active block) now and
        each time it changes, polling every ``interval`` seconds, until the caller stops. ``current``: the
        session with the latest request (in ``project``, or ``cwd``'s project), chosen once."""
        if session_id == "current":
            session_id = self.current_session(project=project, cwd=cwd or os.getcwd())["current"]["session"]
        last = None
        while True:
            snap = self.monitor(session=session_id)
            row = next((s for s in snap["sessions"] if s["session"] == session_id), None)
            update = {"session": session_id, "now": snap["now"], "row": row,
                      "block": next((b for b in snap["blocks"] if row and b["user"] == row["user"]), None)}  # fmt: skip
            if row != last:
                last = row
                yield update
            time.sleep(interval)

    def timeline(self, session_id: str, mode=None) -> dict:
        return self.get(f"/api/v1/sessions/{quote(session_id, safe='')}/timeline", {"mode": mode})

    def tools(self, since=None, until=None, tz=None, limit=None, filters=None) -> dict:
        return self.get("/api/v1/tools", {"since": since, "until": until, "tz": tz, "limit": limit,
                                          **(filters or {})})  # fmt: skip

    def errors(self, since=None, until=None, tz=None, mode=None, filters=None) -> dict:
        return self.get("/api/v1/errors", {"since": since, "until": until, "tz": tz, "mode": mode,
                                           **(filters or {})})  # fmt: skip

    def activity(self, group_by="day", since=None, until=None, tz=None, limit=None, filters=None) -> dict:
        return self.get("/api/v1/activity", {"group_by": group_by, "since": since, "until": until, "tz": tz,
                                             "limit": limit, **(filters or {})})  # fmt: skip

    def sql(self, query: str, limit=None) -> dict:
        return self.post("/api/v1/sql", {"query": query}, {"limit": limit})

    def insights(self, since=None, until=None, tz=None, mode=None, compare_model=None, small_output_tokens=None,
                 filters=None) -> dict:  # fmt: skip
        return self.get(
            "/api/v1/insights",
            {
                "since": since,
                "until": until,
                "tz": tz,
                "mode": mode,
                "compare_model": compare_model,
                "small_output_tokens": small_output_tokens,
                **(filters or {}),
            },
        )

    def budgets(self) -> dict:
        return self.get("/api/v1/budgets")

    def put_budgets(self, budgets: dict | list) -> dict:
        body = {"budgets": budgets} if isinstance(budgets, list) else budgets
        return self.request("PUT", "/api/v1/budgets", body=body)

    def alerts(self, budget=None, since=None, limit=None) -> dict:
        return self.get("/api/v1/alerts", {"budget": budget, "since": since, "limit": limit})

    def metrics(self) -> str:
        """The Prometheus exposition text of GET /metrics."""
        return self.request("GET", "/metrics", text=True)

    def import_(self, paths: list[str] | None = None, **body: Any) -> dict:
        return self.post("/api/v1/import", {"paths": paths, **body}, timeout=None)

    def import_upload(self, push: bytes, gzipped: bool = True) -> dict:
        """Send a push of session files to a hub (ingest/transcripts/upload.py has its format)."""
        headers = {"Content-Type": "application/x-tar", **({"Content-Encoding": "gzip"} if gzipped else {})}
        return self.request("POST", "/api/v1/import/upload", raw=push, headers=headers, timeout=None)


def telemetry_env(env: dict[str, str], endpoint: str, attributes: dict[str, str]) -> dict[str, str]:
    """``env`` with Claude Code's (and Gemini CLI's) telemetry sent to ``endpoint`` over OTLP/HTTP, exported
    every second, and ``attributes`` added to ``OTEL_RESOURCE_ATTRIBUTES`` (values percent-encoded, as the
    OpenTelemetry SDK environment variable spec asks)."""
    env = {k: v for k, v in env.items() if k not in _PER_SIGNAL}
    existing = [item for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(",")
                if item and item.split("=", 1)[0] not in attributes]  # fmt: skip
    ours = [f"{quote(k, safe='._-')}={quote(str(v), safe='._-~')}" for k, v in attributes.items()]
    env.update({
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1", "OTEL_LOGS_EXPORTER": "otlp", "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_LOGS_EXPORT_INTERVAL": EXPORT_INTERVAL_MS, "OTEL_METRIC_EXPORT_INTERVAL": EXPORT_INTERVAL_MS,
        "OTEL_RESOURCE_ATTRIBUTES": ",".join(existing + ours),
        "GEMINI_TELEMETRY_ENABLED": "true", "GEMINI_TELEMETRY_TARGET": "local",
        "GEMINI_TELEMETRY_OTLP_ENDPOINT": endpoint, "GEMINI_TELEMETRY_OTLP_PROTOCOL": "http",
    })  # fmt: skip
    return env


def _by_model(rows: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    for r in rows:
        m = out.setdefault(
            r["model"],
            {
                "model": r["model"],
                "requests": 0,
                "input_tokens": 0,
                "output_tokens": 0,
                "cache_read_tokens": 0,
                "cache_creation_tokens": 0,
                "cost_usd": 0.0,
            },
        )
        for k in ("requests", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens"):
            m[k] += r.get(k) or 0
        m["cost_usd"] = None if m["cost_usd"] is None or r.get("cost_usd") is None else m["cost_usd"] + r["cost_usd"]
    return sorted(out.values(), key=lambda m: m["model"])


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


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
