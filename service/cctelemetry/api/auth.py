"""Tokens over HTTP: every route but ``/healthz`` (and the login page) needs one once a token is
configured (cctelemetry/security.py says which and how they are checked).

- Reading (GET, and ``POST /api/v1/sql``, which is read-only) takes a read-only or a full token; anything
  else (OTLP ``/v1/*``, ``POST /api/v1/import``, price reloads) a full one: 403 for a read-only token.
- No token or a wrong one: 401 with ``WWW-Authenticate: Bearer``, in the one error shape, or for OTLP as a
  google.rpc.Status in the client's encoding; a browser asking for a page is sent to ``/login``.
- The dashboard's page gets the token from a cookie, which the browser then sends with every API call of
  the page: ``/login`` (a form) sets it, and so does any page opened with ``?token=...``, which then
  redirects to the same address without it (so it stays out of the history). The cookie is HttpOnly (no
  script reads it) and SameSite=Strict (no other site's page can make the browser send it).

It is plain ASGI middleware, so it covers every route, mounted files (``/docs-assets``, the dashboard's)
and unknown paths alike.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..security import COOKIE, Access, Tokens
from .routes.otlp import error_response as otlp_error

PUBLIC = {"/healthz", "/login", "/logout"}
READ_ONLY_POSTS = {"/api/v1/sql"}  # read-only statements only (store.query_readonly)
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
COOKIE_MAX_AGE_S = 30 * 24 * 3600
LOGIN_BODY_BYTES = 16 * 1024


def needs(method: str, path: str) -> Access:
    if path.startswith("/v1/"):
        return Access.WRITE
    if method in SAFE_METHODS or (method == "POST" and path in READ_ONLY_POSTS):
        return Access.READ
    return Access.WRITE


class TokenMiddleware:
    def __init__(self, app, tokens: Tokens):
        self.app = app
        self.tokens = tokens

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.tokens.enabled:
            return await self.app(scope, receive, send)
        request = Request(scope, receive)
        path, method = scope["path"], scope["method"]
        if path == "/login":
            response = await login(request, self.tokens)
        elif path == "/logout":
            response = logout()
        elif path in PUBLIC:
            return await self.app(scope, receive, send)
        elif method == "GET" and "token" in request.query_params:
            response = bootstrap(request, self.tokens)
        else:
            access = self.tokens.access(self.tokens.token_from(request.headers, request.cookies.get(COOKIE)))
            if access >= needs(method, path):
                return await self.app(scope, receive, send)
            response = refuse(request, access)
        await response(scope, receive, send)


def refuse(request: Request, access: Access) -> Response:
    path = request.url.path
    if access == Access.NONE:
        status, code = 401, "unauthorized"
        message = ("a token is required: send Authorization: Bearer <token> (OTLP exporters: "
                   "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>)")  # fmt: skip
    else:
        status, code, message = 403, "forbidden", "this token is read-only: it cannot send telemetry, import or change"
    if path.startswith("/v1/"):
        response = otlp_error(status, message, request.headers.get("content-type"))
    elif status == 401 and request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("/login?" + urlencode({"next": _local(str(request.url.path) + _query(request))}), 303)
    else:
        response = JSONResponse({"ok": False, "error": message, "code": code, "status": status}, status_code=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cctelemetry"'
    return response


def _query(request: Request) -> str:
    return f"?{request.url.query}" if request.url.query else ""


def _local(target: str | None) -> str:
    """Only a path on this service: never another site (an open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _with_cookie(response: Response, request: Request, token: str) -> Response:
    response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")  # fmt: skip
    return response


def bootstrap(request: Request, tokens: Tokens) -> Response:
    """``?token=T``: remember T in the cookie and go to the same address without it."""
    token = request.query_params["token"]
    rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
    target = _local(request.url.path + (f"?{rest}" if rest else ""))
    if tokens.access(token) == Access.NONE:
        return RedirectResponse("/login?" + urlencode({"next": target, "failed": "1"}), 303)
    return _with_cookie(RedirectResponse(target, 303), request, token)


async def login(request: Request, tokens: Tokens) -> Response:
    if request.method == "POST":
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > LOGIN_BODY_BYTES:
                return HTMLResponse(_login_page("/", failed=True), status_code=413)
        form = parse_qs(body.decode(errors="replace"))
        token, target = (form.get("token") or [""])[0].strip(), _local((form.get("next") or ["/"])[0])
        if tokens.access(token) != Access.NONE:
            return _with_cookie(RedirectResponse(target, 303), request, token)
        return HTMLResponse(_login_page(target, failed=True), status_code=401)
    if request.method not in ("GET", "HEAD"):
        return JSONResponse({"ok": False, "error": "use GET or POST", "code": "method_not_allowed", "status": 405},
                            status_code=405)  # fmt: skip
    failed = request.query_params.get("failed") == "1"
    return HTMLResponse(_login_page(_local(request.query_params.get("next")), failed))


def logout() -> Response:
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _login_page(target: str, failed: bool = False) -> str:
    note = '<p class="error">That token is not valid here.</p>' if failed else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cctelemetry: sign in</title>
<style>body{{font:16px system-ui,sans-serif;max-width:28rem;margin:12vh auto;padding:0 1rem}}
input{{font:inherit;width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}}
button{{font:inherit;padding:.5rem 1rem}}.error{{color:#b00020}}</style></head>
<body><h1>cctelemetry</h1><p>This service needs a token (<code>CCTELEMETRY_API_TOKEN</code>, or a read-only one).</p>
{note}<form method="post" action="/login"><label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{html.escape(target, quote=True)}"><button type="submit">Sign in</button></form>
</body></html>"""


def install_auth(app, settings) -> Tokens:
    """Tokens on every route of ``app`` (and CORS, when origins are configured: off by default)."""
    tokens = Tokens.from_settings(settings)
    app.add_middleware(TokenMiddleware, tokens=tokens)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        from starlette.middleware.cors import CORSMiddleware

        headers = ["authorization", "content-type"] + ([tokens.header] if tokens.header else [])
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=headers, allow_credentials=False, max_age=600)  # fmt: skip
    return tokens
