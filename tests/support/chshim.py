"""A ClickHouse-compatible HTTP endpoint for tests, backed by a real ClickHouse engine.

No ClickHouse server can run on the development machine, yet the store's HTTP code path
(clickhouse-connect's ``HttpClient``) must be exercised. This module puts the *transport* of
ClickHouse's HTTP interface in front of the *real engine* that chdb embeds (same code, same
release family as the server), running in a subprocess of its own: chdb opens one data folder
per process, and the pytest process already has its own engine.

The shim only translates the transport. Every statement, setting, parameter and error comes from
the engine: SQL is forwarded untouched, ``param_<name>`` values go to the engine's own query
parameter substitution (``{name:Type}``, parsed by ClickHouse exactly as a server parses them),
URL settings become one ``SET a = '…', b = '…'`` statement (the engine checks and applies them the
way the server's HTTP handler does), and error codes, names and messages are the engine's.

What it implements of https://clickhouse.com/docs/interfaces/http (server 26.x behaviour):

* ``GET /ping`` and ``GET /replicas_status`` -> ``Ok.``; ``GET /`` without a query -> ``Ok.``;
  any other path -> 404.
* Queries by POST body, by the ``query=`` URL parameter, or both (``query`` + newline + body), and
  ``multipart/form-data`` plain fields (clickhouse-connect sends large bound parameters that way).
* ``database=`` / ``X-ClickHouse-Database``, ``default_format=`` / request ``X-ClickHouse-Format``
  (default ``TabSeparated``), a trailing ``FORMAT`` clause, ``param_<name>=``.
* Settings as URL parameters (``readonly``, ``max_result_rows``, ``enable_http_compression`` …);
  the server's reserved transport parameters (``wait_end_of_query``, ``query_id``, ``buffer_size``,
  ``session_timeout`` …) are accepted and have no engine effect. An unknown setting is refused by
  the engine with ``UNKNOWN_SETTING`` as a server does, unless ``strict_settings=False``.
* GET requests run with ``readonly=2`` unless already read-only, like the server.
* ``INSERT … FORMAT <fmt>`` + data in the same body (clickhouse-connect's Native inserts), fed to the
  engine through chdb's streaming insert; ``INSERT … VALUES`` / ``INSERT … SELECT`` as plain SQL.
* Request bodies compressed per ``Content-Encoding`` (lz4 frames, zstd, gzip, deflate, xz, bz2; br
  if ``brotli`` is installed); responses compressed when ``enable_http_compression=1`` and
  ``Accept-Encoding`` allows, choosing in the server's order (zstd, br, lz4, gzip, deflate, xz, bz2).
* Users with passwords (Basic auth, ``X-ClickHouse-User``/``X-ClickHouse-Key`` headers, or
  ``user``/``password`` parameters; mixing schemes is refused like the server) and per-user
  profile settings (e.g. ``{"readonly": "2"}``). A wrong password or unknown user gets
  ``Code: 516 … (AUTHENTICATION_FAILED)`` with HTTP 403.
* Response headers ``X-ClickHouse-Server-Display-Name``, ``X-ClickHouse-Query-Id``,
  ``X-ClickHouse-Format`` (only for statements that produce a result, as the server),
  ``X-ClickHouse-Timezone``, ``X-ClickHouse-Summary``; errors as ``Code: N. DB::Exception: …
  (NAME) (version …)`` with ``X-ClickHouse-Exception-Code`` and the server's HTTP status for the
  code (400/403/404/408/411/413/501/503/500, from ClickHouse's exceptionCodeToHTTPStatus.cpp).
* Sessions (``session_id``): one engine connection per session, so ``SET``, ``USE`` and temporary
  tables persist; URL settings apply to the one request; ``session_timeout``, ``session_check``,
  ``close_session``; a session used concurrently gets ``SESSION_IS_LOCKED``.
* Multi-statements, ``INTO OUTFILE`` and ``FROM INFILE`` are refused as a server refuses them.

What it does NOT do: see ``LIMITATIONS`` below.

Use from tests::

    with ChShim(users={"writer": "secret"}) as shim:
        url = shim.url("writer", "secret", "otel")   # http://writer:secret@127.0.0.1:PORT/otel
        ...
        shim.stop()      # the server is down: connections are refused
        shim.start()     # back on the same port, same data

Run by hand: ``python tests/support/chshim.py --serve`` reads a JSON config line on stdin.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.parser
import email.policy
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

LIMITATIONS = """\
* No streaming: a result is computed whole, then sent with Content-Length (as wait_end_of_query=1);
  no X-ClickHouse-Progress headers, no X-ClickHouse-Exception-Tag, no mid-stream exceptions.
* client_protocol_version is ignored: Native output has no block info. clickhouse-connect probes for
  it and falls back to protocol 0, as it does behind a proxy that strips the parameter.
* compress=1 / decompress=1 (ClickHouse's internal compression) are refused (NOT_IMPLEMENTED);
  snappy is not offered for responses; br only with the brotli package.
* External data (multipart file parts), roles (role=), SSL certificate auth, JWT/Bearer tokens,
  quota keys, grants, row policies and settings constraints are not implemented: users differ only
  by password and profile settings, and every user can reach every database.
* Inside a session, a read-only request (readonly=… as a URL setting, or GET) is refused.
* result_rows is absent from X-ClickHouse-Summary (chdb does not report it); read_rows/bytes,
  written_rows/bytes and elapsed_ns are the engine's.
* Requests are executed one at a time (one lock around the engine).
* Plain HTTP only (no TLS: https:// URLs cannot be tested against it).
* {name:Type} parameters inside the statement part of an INSERT … FORMAT with data are not
  substituted (chdb's streaming insert takes none); in every other statement they are.
* The engine is chdb's (clickhouse-local's): no clusters, replication, server config (config.d),
  or server-only system tables; the shim's time zone is set by the ``timezone`` argument (TZ).
* Table functions that reach files/URLs run with the shim's filesystem and network access.
"""

_HERE = Path(__file__).resolve()

# ==================================================================================================
# Parent side: start, stop and address the shim.
# ==================================================================================================


class ShimError(RuntimeError):
    """The shim process could not be started or stopped."""


UserSpec = str | Mapping[str, Any]


class ChShim:
    """Controls one shim subprocess. ``users`` maps a name to a password or to
    ``{"password": ..., "settings": {...}}`` (profile settings applied to every request)."""

    def __init__(
        self,
        users: Mapping[str, UserSpec] | None = None,
        *,
        data_dir: str | os.PathLike | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        display_name: str = "chshim",
        timezone: str = "UTC",
        strict_settings: bool = True,
        startup_timeout: float = 30.0,
    ):
        self.users = {name: _normalise_user(spec) for name, spec in (users or {"default": ""}).items()}
        self._own_dir = data_dir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="chshim-")) if data_dir is None else Path(data_dir)
        self.data_dir = self.workdir / "data" if data_dir is None else Path(data_dir)
        self.log_path = (
            self.workdir if data_dir is None else Path(tempfile.gettempdir())
        ) / f"chshim-{os.getpid()}-{id(self)}.log"
        self.host = host
        self.port = port
        self.display_name = display_name
        self.timezone = timezone
        self.strict_settings = strict_settings
        self.startup_timeout = startup_timeout
        self._proc: subprocess.Popen | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> ChShim:
        """Start the server (on the previous port after a stop), wait (bounded) until /ping answers."""
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = {
            "data_dir": str(self.data_dir),
            "host": self.host,
            "port": self.port,
            "users": self.users,
            "display_name": self.display_name,
            "strict_settings": self.strict_settings,
        }
        env = dict(os.environ, TZ=self.timezone, PYTHONUNBUFFERED="1")
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the file
            self._proc = subprocess.Popen(
                [sys.executable, str(_HERE), "--serve"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                close_fds=True,
            )
        # The config (passwords included) goes over stdin, which then stays open: the child exits
        # when it closes, so a killed test run does not leave servers behind.
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(config).encode() + b"\n")
        self._proc.stdin.flush()
        deadline = time.monotonic() + self.startup_timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self._proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(self._proc.stdout.fileno(), 256)
            if not chunk:
                break
            line += chunk
        m = re.match(rb"CHSHIM LISTENING (\d+)\n", line)
        if not m:
            self._abort(f"did not report its port within {self.startup_timeout:.0f} s (said {line!r})")
        self.port = int(m.group(1))
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an http_proxy
        while True:
            try:
                with direct.open(f"{self.base_url}/ping", timeout=1) as r:
                    if r.read() == b"Ok.\n":
                        return self
            except (OSError, http.client.HTTPException):  # URLError, refused, reset, timeout, partial
                pass
            if time.monotonic() > deadline or not self.running:
                self._abort(f"/ping did not answer within {self.startup_timeout:.0f} s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server: from now on connections to its port are refused. Data stays."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()  # the child's shutdown signal
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    try:
                        proc.wait(timeout=timeout)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=timeout)
        finally:
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream:
                        stream.close()
                except OSError:
                    pass

    def restart(self) -> ChShim:
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop and remove the data folder it created."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> ChShim:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()

    def _abort(self, why: str):
        self.stop(timeout=3)
        log = ""
        with contextlib.suppress(OSError):
            log = self.log_path.read_text(errors="replace")[-4000:]
        raise ShimError(f"chshim {why}\n--- log ---\n{log}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # -- addresses --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, user: str = "default", password: str = "", database: str = "") -> str:
        """A ``CCTELEMETRY_CLICKHOUSE_URL`` for this server, credentials percent-encoded."""
        return f"http://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{database}"


def _normalise_user(spec: UserSpec) -> dict[str, Any]:
    if isinstance(spec, str):
        return {"password": spec, "settings": {}}
    return {
        "password": str(spec.get("password", "")),
        "settings": {k: str(v) for k, v in (spec.get("settings") or {}).items()},
    }


# ==================================================================================================
# Child side: the HTTP server in front of chdb.
# ==================================================================================================

# Parameters ClickHouse's HTTP handler consumes itself (HTTPHandler.cpp reserved_param_names and
# the parameters it reads explicitly): never settings.
RESERVED_PARAMS = frozenset(
    {
        "query", "database", "default_format", "compress", "decompress", "user", "password", "quota_key",
        "query_id", "stacktrace", "role", "buffer_size", "wait_end_of_query", "session_id", "session_timeout",
        "session_check", "client_protocol_version", "close_session",
    }
)  # fmt: skip

# exceptionCodeToHTTPStatus.cpp (ClickHouse 26.x), by error name.
_STATUS_BY_NAME = {
    401: ("REQUIRED_PASSWORD",),
    403: ("UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"),
    400: (
        "BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE",
        "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE", "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER",
        "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6",
        "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN",
        "UNKNOWN_ELEMENT_IN_AST", "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST", "TOO_BIG_AST",
        "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR", "INCORRECT_DATA", "TYPE_MISMATCH",
        "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
    ),
    404: (
        "UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE",
        "UNKNOWN_DATABASE", "UNKNOWN_SETTING", "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION",
        "UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE",
    ),
    413: ("QUERY_IS_TOO_LARGE",),
    501: ("NOT_IMPLEMENTED",),
    503: ("SOCKET_TIMEOUT", "CANNOT_OPEN_FILE", "CANNOT_SCHEDULE_TASK"),
    411: ("HTTP_LENGTH_REQUIRED",),
    408: ("TIMEOUT_EXCEEDED",),
    415: ("UNSUPPORTED_MEDIA_TYPE",),
}  # fmt: skip
STATUS_FOR_NAME = {name: status for status, names in _STATUS_BY_NAME.items() for name in names}

# Statements whose first keyword means they return a result set (the server then sends X-ClickHouse-Format).
RESULT_KEYWORDS = frozenset(
    {"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN", "CHECK", "FROM", "WATCH", "KILL"}
)

# The server's preference when Accept-Encoding lists several (IO/CompressionMethod.cpp).
RESPONSE_ENCODINGS = ("zstd", "br", "lz4", "gzip", "deflate", "xz", "bz2")

_ERROR_CODE_RE = re.compile(r"Code: (\d+)\. ")
_ERROR_NAME_RE = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")
_VERSION_TRAILER_RE = re.compile(r"\(version [^)]*\)\s*$")
_SETTING_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class CHError(Exception):
    """An error to answer in ClickHouse's format: ``Code: N. DB::Exception: message (NAME)``."""

    def __init__(self, code: int, message: str, name: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.name = name


# -- SQL lexing (only to find statement boundaries, FORMAT clauses and the first keyword) ----------


@dataclass
class Token:
    kind: str  # word, punct, literal
    text: str
    start: int
    end: int


_HEREDOC_RE = re.compile(r"\$([A-Za-z0-9_]*)\$")
_IDENT_RE = re.compile(r"[A-Za-z0-9_$]+")
_NUMBER_RE = re.compile(r"[0-9A-Za-z_.]+")


def lex(text: str, start: int = 0):
    """Significant tokens of ClickHouse SQL: skips whitespace and comments; string literals,
    quoted identifiers and heredocs are single tokens (so keywords inside them are not seen)."""
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("--", i) or (c == "#" and i + 1 < n and text[i + 1] in " !"):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c in "'\"`":
            j = i + 1
            while j < n:
                if text[j] == "\\":
                    j += 2
                elif text[j] == c:
                    if j + 1 < n and text[j + 1] == c:
                        j += 2
                    else:
                        break
                else:
                    j += 1
            yield Token("literal" if c == "'" else "word", text[i : j + 1], i, min(j + 1, n))
            i = j + 1
        elif c == "$":
            m = _HEREDOC_RE.match(text, i)
            if m:
                j = text.find(m.group(0), m.end())
                j = n if j < 0 else j + len(m.group(0))
                yield Token("literal", text[i:j], i, j)
                i = j
            else:
                yield Token("punct", c, i, i + 1)
                i += 1
        elif c.isalpha() or c == "_":
            m = _IDENT_RE.match(text, i)
            j = m.end() if m else i + 1
            yield Token("word", text[i:j], i, j)
            i = j
        elif c.isdigit():
            m = _NUMBER_RE.match(text, i)
            j = m.end() if m else i + 1
            yield Token("literal", text[i:j], i, j)
            i = j
        else:
            yield Token("punct", c, i, i + 1)
            i += 1


def _is_word(tok: Token | None, *words: str) -> bool:
    return tok is not None and tok.kind == "word" and tok.text.upper() in words


def first_keyword(text: str) -> str:
    for tok in lex(text):
        if tok.kind == "punct" and tok.text == "(":
            continue
        return tok.text.upper() if tok.kind == "word" else ""
    return ""


@dataclass
class InsertSplit:
    head: int  # end of the INSERT statement proper (before FORMAT)
    fmt: str
    data: int  # where the data starts


def split_insert(text: str) -> InsertSplit | None:
    """For ``INSERT … FORMAT <fmt>`` followed by data, where the statement ends and the data
    starts; None for an INSERT whose rows are SQL (VALUES, SELECT). Stops lexing at the format
    name, so binary data after it is never read as SQL. ``text`` is the latin-1 view of the bytes
    (one character per byte)."""
    depth = 0
    tokens = lex(text)
    prev: Token | None = None
    for tok in tokens:
        if tok.kind == "punct" and tok.text == "(":
            depth += 1
        elif tok.kind == "punct" and tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.kind == "word":
            word = tok.text.upper()
            if word in ("VALUES", "SELECT", "WITH"):
                return None
            if word == "INFILE" and _is_word(prev, "FROM"):
                raise CHError(0, "Query has infile and was send directly to server", "UNKNOWN_TYPE_OF_QUERY")
            if word == "FORMAT":
                fmt_tok = next(tokens, None)
                if fmt_tok is None or fmt_tok.kind != "word":
                    return None
                i = fmt_tok.end
                # As ParserInsertQuery: data starts after the first newline, or after the blanks.
                while i < len(text) and text[i] in " \t\f":
                    i += 1
                if text.startswith("\r\n", i):
                    i += 2
                elif i < len(text) and text[i] == "\n":
                    i += 1
                return InsertSplit(head=tok.start, fmt=fmt_tok.text.strip('`"'), data=i)
        prev = tok
    return None


@dataclass
class Analysis:
    first: str = ""
    output_format: str | None = None
    multi_statement_at: int | None = None
    into_outfile: bool = False


def analyze(text: str, output_formats: frozenset[str]) -> Analysis:
    a = Analysis(first=first_keyword(text))
    top: list[Token] = []
    depth = 0
    seen_semicolon: int | None = None
    for tok in lex(text):
        if seen_semicolon is not None:
            a.multi_statement_at = seen_semicolon
            break
        if tok.kind == "punct" and tok.text in "([{":
            depth += 1
        elif tok.kind == "punct" and tok.text in ")]}":
            depth -= 1
        elif depth == 0:
            if tok.kind == "punct" and tok.text == ";":
                seen_semicolon = tok.start
                continue
            top.append(tok)
    for i, tok in enumerate(top):
        if _is_word(tok, "INTO") and i + 1 < len(top) and _is_word(top[i + 1], "OUTFILE"):
            a.into_outfile = True
        if (
            _is_word(tok, "FORMAT")
            and i + 1 < len(top)
            and top[i + 1].kind == "word"
            and top[i + 1].text.strip('`"').lower() in output_formats
            and (i + 2 == len(top) or _is_word(top[i + 2], "SETTINGS"))
        ):
            a.output_format = top[i + 1].text.strip('`"')
    return a


# -- compression ----------------------------------------------------------------------------------


def _zstd():
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    return zstd


def _codec_available(name: str) -> bool:
    try:
        if name == "zstd":
            _zstd()
        elif name == "br":
            import brotli  # noqa: F401 - imported to see that it is installed
        elif name == "lz4":
            import lz4.frame  # noqa: F401 - imported to see that it is installed
        return True
    except ImportError:
        return False


def decompress_body(data: bytes, encoding: str) -> bytes:
    enc = encoding.strip().lower()
    if not data or enc in ("", "identity", "none"):
        return data
    try:
        if enc in ("gzip", "gz"):
            import gzip

            return gzip.decompress(data)
        if enc == "deflate":
            import zlib

            return zlib.decompress(data)
        if enc in ("xz", "lzma"):
            import lzma

            return lzma.decompress(data)
        if enc == "bz2":
            import bz2

            return bz2.decompress(data)
        if enc in ("zstd", "zst"):
            return _zstd().decompress(data)
        if enc in ("br", "brotli"):
            import brotli

            return brotli.decompress(data)
        if enc == "lz4":
            import lz4.frame

            out = bytearray()
            rest = data
            while rest:  # clickhouse-connect sends one LZ4 frame per block
                d = lz4.frame.LZ4FrameDecompressor()
                out += d.decompress(rest)
                if not d.eof:
                    raise ValueError("truncated LZ4 frame")
                rest = d.unused_data
            return bytes(out)
    except ImportError as exc:
        raise CHError(
            0, f"Unsupported compression method '{encoding}' in this shim ({exc})", "NOT_IMPLEMENTED"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - a corrupt body is the client's error
        raise CHError(0, f"Cannot decompress the request body ({enc}): {exc}", "CANNOT_DECOMPRESS") from exc
    raise CHError(
        0,
        f"Unknown compression method '{encoding}'. Only 'auto', 'none', 'gzip', 'deflate', 'br', 'xz', 'zstd', "
        "'lz4', 'bz2', 'snappy' are supported as compression methods",
        "NOT_IMPLEMENTED",
    )


def choose_response_encoding(accept: str) -> str | None:
    offered = set()
    for part in accept.split(","):
        name, _, q = part.strip().partition(";")
        name = name.strip().lower()
        q = q.strip()
        if q.startswith("q="):
            try:
                if float(q[2:]) == 0:
                    continue
            except ValueError:
                pass
        offered.add(name)
    for enc in RESPONSE_ENCODINGS:
        if (enc in offered or "*" in offered) and _codec_available(enc):
            return enc
    return None


def compress_body(data: bytes, encoding: str, zlib_level: int = 3) -> bytes:
    if encoding == "zstd":
        return _zstd().compress(data)
    if encoding == "br":
        import brotli

        return brotli.compress(data)
    if encoding == "lz4":
        import lz4.frame

        return lz4.frame.compress(data)
    if encoding == "gzip":
        import gzip

        return gzip.compress(data, compresslevel=zlib_level)
    if encoding == "deflate":
        import zlib

        return zlib.compress(data, zlib_level)
    if encoding == "xz":
        import lzma

        return lzma.compress(data)
    if encoding == "bz2":
        import bz2

        return bz2.compress(data)
    raise ValueError(encoding)


def content_type_for(fmt: str) -> str:
    f = fmt.lower()
    if f.startswith(("tabseparated", "tsv")):
        return "text/tab-separated-values; charset=UTF-8"
    if f.startswith("csv"):
        return "text/csv; charset=UTF-8; header=" + ("present" if "withnames" in f else "absent")
    if f in ("jsoneachrow", "jsonlines", "ndjson", "jsoncompacteachrow"):
        return "application/x-ndjson; charset=UTF-8"
    if f.startswith("json"):
        return "application/json; charset=UTF-8"
    if f in (
        "native",
        "rowbinary",
        "rowbinarywithnames",
        "rowbinarywithnamesandtypes",
        "parquet",
        "arrow",
        "arrowstream",
        "orc",
        "avro",
    ):
        return "application/octet-stream"
    return "text/plain; charset=UTF-8"


# -- the engine -----------------------------------------------------------------------------------


def quote_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_ident(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


@dataclass
class Session:
    conn: Any
    timeout: float
    last_used: float
    busy: bool = False


class Engine:
    """The real ClickHouse engine (chdb) plus what the HTTP layer needs to know about it."""

    def __init__(self, path: str):
        import chdb

        self._chdb = chdb
        self.path = path
        self.lock = threading.Lock()
        self.primary = chdb.connect(path)  # initialises the engine; kept open for the process' life
        version, tz = self._scalar_row("SELECT version(), timezone()")
        self.version = version
        self.timezone = tz
        rows = self._rows(
            "SELECT number, errorCodeToName(number) FROM numbers(5000) WHERE errorCodeToName(number) != ''"
        )
        self.codes = {name: int(code) for code, name in rows}
        self.names = {int(code): name for code, name in rows}
        self.output_formats = frozenset(
            n.lower() for (n,) in self._rows("SELECT name FROM system.formats WHERE is_output")
        )
        # Server-side defaults of the settings the HTTP layer itself reads.
        self.defaults = dict(
            self._rows(
                "SELECT name, value FROM system.settings WHERE name IN "
                "('enable_http_compression', 'http_zlib_compression_level', 'readonly')"
            )
        )
        self.setting_names = frozenset(n for (n,) in self._rows("SELECT name FROM system.settings"))
        self.sessions: dict[str, Session] = {}
        self.sessions_lock = threading.Lock()

    def _rows(self, sql: str) -> list[list[str]]:
        out = self.primary.query(sql, "TabSeparated").bytes().decode()
        return [line.split("\t") for line in out.splitlines()]

    def _scalar_row(self, sql: str) -> list[str]:
        return self._rows(sql)[0]

    def connect(self):
        return self._chdb.connect(self.path)

    def error(self, name: str, message: str) -> CHError:
        return CHError(self.codes.get(name, 1002), message, name)

    def from_exception(self, exc: BaseException) -> CHError:
        text = str(exc)
        i = text.find("Code: ")
        if i > 0:
            text = text[i:]
        m = _ERROR_CODE_RE.match(text)
        if not m:
            return CHError(
                self.codes.get("STD_EXCEPTION", 1001),
                f"std::exception. Code: 1001, type: {type(exc).__name__}, e.what() = {text}",
                "STD_EXCEPTION",
            )
        code = int(m.group(1))
        names = _ERROR_NAME_RE.findall(text)
        name = self.names.get(code) or (names[-1] if names else "")
        body = text[m.end() :]
        if body.startswith("DB::Exception: "):
            body = body[len("DB::Exception: ") :]
        body = _VERSION_TRAILER_RE.sub("", body).rstrip()
        if name and body.endswith(f"({name})"):
            body = body[: -len(f"({name})")].rstrip()
        return CHError(code, body, name)

    def render(self, err: CHError) -> tuple[int, str]:
        code = err.code or self.codes.get(err.name, 1002)
        name = err.name or self.names.get(code, "")
        message = err.message.rstrip()
        if not message.endswith("."):
            message += "."  # as ClickHouse renders "<message>. (NAME)"
        text = f"Code: {code}. DB::Exception: {message}"
        if name:
            text += f" ({name})"
        text += f" (version {self.version})\n"
        return code, text

    def status_for(self, code: int) -> int:
        return STATUS_FOR_NAME.get(self.names.get(code, ""), 500)


@dataclass
class Request:
    method: str
    query: bytes
    params: dict[str, str]
    settings: list[tuple[str, str]]
    bind: dict[str, str]
    database: str
    default_format: str
    user: str
    profile: dict[str, str]
    session_id: str | None
    session_timeout: float
    session_check: bool
    close_session: bool


@dataclass
class Result:
    body: bytes = b""
    fmt: str | None = None
    summary: dict[str, str] = field(default_factory=dict)


def run_request(engine: Engine, req: Request, strict_settings: bool) -> Result:
    with engine.lock:
        if req.session_id:
            return _run_in_session(engine, req, strict_settings)
        conn = engine.connect()
        try:
            _prepare(engine, conn, req, strict_settings, fresh=True)
            return _execute(engine, conn, req)
        finally:
            conn.close()


def _run_in_session(engine: Engine, req: Request, strict_settings: bool) -> Result:
    now = time.monotonic()
    with engine.sessions_lock:
        for sid, s in list(engine.sessions.items()):
            if not s.busy and now - s.last_used > s.timeout:
                s.conn.close()
                del engine.sessions[sid]
        session = engine.sessions.get(req.session_id)
        if session is None:
            if req.session_check:
                raise engine.error("SESSION_NOT_FOUND", f"Session {req.session_id} not found")
            conn = engine.connect()
            if req.profile:
                _set(engine, conn, list(req.profile.items()))
            session = engine.sessions[req.session_id] = Session(conn, req.session_timeout, now)
        if session.busy:
            raise engine.error("SESSION_IS_LOCKED", f"Session {req.session_id} is locked by a concurrent client")
        session.busy = True
    try:
        readonly_asked = any(k == "readonly" for k, _ in req.settings) or req.method == "GET"
        if readonly_asked:
            raise engine.error(
                "NOT_IMPLEMENTED",
                "chshim: read-only requests (readonly=…, or GET) inside an HTTP session are not supported",
            )
        snapshot = _snapshot(engine, session.conn, [k for k, _ in req.settings])
        database = _current_database(session.conn)
        try:
            _prepare(engine, session.conn, req, strict_settings, fresh=False)
            return _execute(engine, session.conn, req)
        finally:
            _restore(session.conn, snapshot, database)
    finally:
        with engine.sessions_lock:
            session.busy = False
            session.last_used = time.monotonic()
            session.timeout = req.session_timeout
            if req.close_session:
                session.conn.close()
                engine.sessions.pop(req.session_id, None)


def _current_database(conn) -> str:
    return conn.query("SELECT currentDatabase()", "TabSeparated").bytes().decode().rstrip("\n")


def _snapshot(engine: Engine, conn, names: list[str]) -> list[tuple[str, str, bool]]:
    """The session's current value of each setting a request is about to change. One row per
    query, so that the session's own result limits (SET max_result_rows = 1 …) cannot refuse it."""
    snapshot = []
    for name in dict.fromkeys(names):
        if name not in engine.setting_names:
            continue  # the SET will refuse it (UNKNOWN_SETTING)
        out = conn.query(
            f"SELECT value, changed FROM system.settings WHERE name = {quote_literal(name)}", "JSONEachRow"
        )
        for line in out.bytes().splitlines():
            row = json.loads(line)
            snapshot.append((name, row["value"], bool(row["changed"])))
    return snapshot


def _restore(conn, snapshot: list[tuple[str, str, bool]], database: str) -> None:
    for name, value, changed in snapshot:
        with contextlib.suppress(Exception):  # best effort, as a server drops the query context
            conn.query(f"SET {name} = {quote_literal(value) if changed else 'DEFAULT'}", "TabSeparated")
    with contextlib.suppress(Exception):
        conn.query(f"USE {quote_ident(database)}", "TabSeparated")


def _set(engine: Engine, conn, changes: list[tuple[str, str]]) -> None:
    """Apply settings as one SET statement: the engine checks them all against the current
    constraints (readonly…) and then applies them, as the HTTP handler does with URL settings."""
    if not changes:
        return
    for name, _ in changes:
        if not _SETTING_NAME_RE.match(name):
            raise engine.error("UNKNOWN_SETTING", f"Unknown setting '{name}'")
    sql = "SET " + ", ".join(f"{name} = {quote_literal(value)}" for name, value in changes)
    try:
        conn.query(sql, "TabSeparated")
    except Exception as exc:  # noqa: BLE001
        raise engine.from_exception(exc) from exc


def _prepare(engine: Engine, conn, req: Request, strict_settings: bool, fresh: bool) -> None:
    if fresh and req.profile:
        _set(engine, conn, list(req.profile.items()))
    if fresh and req.method == "GET" and req.profile.get("readonly", engine.defaults.get("readonly", "0")) in ("0", ""):
        _set(engine, conn, [("readonly", "2")])  # HTTPHandler: GET is read-only
    if req.database:
        try:
            conn.query(f"USE {quote_ident(req.database)}", "TabSeparated")
        except Exception as exc:  # noqa: BLE001
            raise engine.from_exception(exc) from exc
    changes = req.settings
    if not strict_settings:
        changes = [(k, v) for k, v in changes if k in engine.setting_names]
    _set(engine, conn, changes)


def _summary(result: Any, body_len: int = 0) -> dict[str, str]:
    s = {
        "read_rows": str(result.rows_read()),
        "read_bytes": str(result.bytes_read()),
        "written_rows": str(result.rows_written()),
        "written_bytes": str(result.bytes_written()),
        "total_rows_to_read": str(result.rows_read()),
        "result_bytes": str(body_len),
        "elapsed_ns": str(int(result.elapsed() * 1e9)),
    }
    return s


def _execute(engine: Engine, conn, req: Request) -> Result:
    raw = req.query
    view = raw.decode("latin-1")  # one character per byte: offsets are byte offsets
    if not view.strip():
        raise engine.error("SYNTAX_ERROR", "Empty query")
    if first_keyword(view) == "INSERT":
        split = split_insert(view)
        if split is not None:
            head = raw[: split.head].decode("utf-8", errors="strict").rstrip()
            data = raw[split.data :]
            try:
                inserter = conn.send_insert(head, split.fmt)
                try:
                    if data:
                        inserter.append(data)
                    done = inserter.finish()
                except BaseException:
                    with contextlib.suppress(Exception):
                        inserter.cancel()
                    raise
            except CHError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise engine.from_exception(exc) from exc
            return Result(
                summary={
                    "read_rows": str(done.rows_written),
                    "read_bytes": str(done.bytes_written),
                    "written_rows": str(done.rows_written),
                    "written_bytes": str(done.bytes_written),
                    "total_rows_to_read": "0",
                    "result_bytes": "0",
                    "elapsed_ns": str(int(done.elapsed * 1e9)),
                }
            )
    try:
        sql: str | bytes = raw.decode("utf-8")
        text = sql
    except UnicodeDecodeError:
        sql, text = raw, view
    a = analyze(text, engine.output_formats)
    if a.multi_statement_at is not None:
        raise engine.error(
            "SYNTAX_ERROR",
            f"Syntax error (Multi-statements are not allowed): failed at position {a.multi_statement_at + 1} (';')",
        )
    if a.into_outfile:
        raise engine.error("INTO_OUTFILE_NOT_ALLOWED", "INTO OUTFILE is not allowed")
    try:
        result = conn.query(sql, req.default_format, params=req.bind)
    except Exception as exc:  # noqa: BLE001
        raise engine.from_exception(exc) from exc
    body = result.bytes() or b""
    produces = bool(body) or a.first in RESULT_KEYWORDS
    return Result(
        body=body,
        fmt=(a.output_format or req.default_format) if produces else None,
        summary=_summary(result, len(body)),
    )


# -- HTTP -----------------------------------------------------------------------------------------


class ShimServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, engine: Engine, config: dict):
        super().__init__(address, Handler)
        self.engine = engine
        self.users: dict[str, dict] = config["users"]
        self.display_name: str = config.get("display_name") or "chshim"
        self.strict_settings: bool = bool(config.get("strict_settings", True))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ShimServer

    def version_string(self) -> str:
        return "chshim"

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in one write, without Nagle's delay (40 ms per response otherwise).
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):  # to the log file, not the terminal
        sys.stderr.write(f"{self.address_string()} {fmt % args}\n")

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_HEAD(self):
        self._handle("HEAD")

    # -- plumbing ---------------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed mid-body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(3)
        length = self.headers.get("Content-Length")
        if length is not None:
            return self.rfile.read(int(length))
        if self.command == "POST":
            raise self.server.engine.error(
                "HTTP_LENGTH_REQUIRED",
                "The Transfer-Encoding is not chunked and there is no Content-Length header for POST request",
            )
        return b""

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("X-ClickHouse-Server-Display-Name", self.server.display_name)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Keep-Alive", "timeout=30")
        # end_headers(), with the body in the same write
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()

    def _send_error(self, err: CHError, query_id: str | None = None, encoding: str | None = None) -> None:
        engine = self.server.engine
        code, text = engine.render(err)
        body = text.encode()
        headers = {"Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": str(code)}
        if query_id:
            headers["X-ClickHouse-Query-Id"] = query_id
        if encoding:
            body = compress_body(body, encoding)
            headers["Content-Encoding"] = encoding
        status = engine.status_for(code)
        if status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="ClickHouse server HTTP API"'
        self._send(status, body, headers)

    # -- one request ------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        engine = self.server.engine
        try:
            body = self._read_body()
        except CHError as err:
            self._send_error(err)
            self.close_connection = True
            return
        except (ValueError, ConnectionError):
            self.close_connection = True
            return
        url = urlsplit(self.path)
        if url.path in ("/ping", "/replicas_status"):
            self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
            return
        if url.path != "/":
            msg = (
                f"There is no handle {url.path}\n\nUse / or /ping for health checks.\n"
                "Or /replicas_status for more sophisticated health checks.\n\n"
                "Send queries from your program with POST method or GET /?query=...\n"
            )
            self._send(404, msg.encode(), {"Content-Type": "text/plain; charset=UTF-8"})
            return

        pairs = parse_qsl(url.query, keep_blank_values=True)
        query_parts: list[bytes] = []
        form_pairs: list[tuple[str, str]] = []
        ctype = self.headers.get("Content-Type", "")
        query_id = ""
        encoding = None
        try:
            if ctype.lower().startswith("multipart/form-data"):
                form_pairs = self._parse_form(ctype, body)
                body = b""
            elif body:
                body = decompress_body(body, self.headers.get("Content-Encoding", ""))
            params = {}
            for k, v in pairs + form_pairs:
                params[k] = v  # the last value wins, as HTMLForm::getParsedLast
            if method == "GET" and not params.get("query") and not body:
                self._send(200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"})
                return
            user, profile = self._authenticate(params)
            query_id = params.get("query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
            for flag in ("compress", "decompress"):
                if params.get(flag, "0") not in ("0", "", "false"):
                    raise engine.error(
                        "NOT_IMPLEMENTED",
                        f"chshim: the '{flag}' parameter (ClickHouse's internal compression) is not supported",
                    )
            if params.get("role"):
                raise engine.error("NOT_IMPLEMENTED", "chshim: roles (role=) are not supported")
            effective = (
                params.get("enable_http_compression")
                or profile.get("enable_http_compression")
                or engine.defaults.get("enable_http_compression", "0")
            )
            if effective.lower() in ("1", "true"):
                encoding = choose_response_encoding(self.headers.get("Accept-Encoding", ""))
            for k, v in pairs:
                if k == "query" and v:
                    query_parts.append(v.encode() + b"\n")
            for k, v in form_pairs:
                if k == "query":
                    query_parts.append(v.encode())
            query = b"".join(query_parts) + body
            settings = []
            for k, v in pairs + form_pairs:
                if k in RESERVED_PARAMS or k.startswith("param_") or not k:
                    continue
                settings.append((k, v))
            bind = {k[len("param_") :]: v for k, v in pairs + form_pairs if k.startswith("param_")}
            try:
                timeout = float(params.get("session_timeout") or 60)
            except ValueError:
                raise engine.error(
                    "INVALID_SESSION_TIMEOUT", f"Invalid session timeout: '{params.get('session_timeout')}'"
                ) from None
            req = Request(
                method=method,
                query=query,
                params=params,
                settings=settings,
                bind=bind,
                database=self.headers.get("X-ClickHouse-Database") or params.get("database", ""),
                default_format=self.headers.get("X-ClickHouse-Format")
                or params.get("default_format")
                or "TabSeparated",
                user=user,
                profile=profile,
                session_id=params.get("session_id") or None,
                session_timeout=timeout,
                session_check=params.get("session_check") == "1",
                close_session=params.get("close_session") == "1",
            )
            result = run_request(engine, req, self.server.strict_settings)
        except CHError as err:
            self._send_error(err, query_id or None, encoding)
            return
        except Exception as exc:  # noqa: BLE001 - answer as the server would, and log it
            import traceback

            traceback.print_exc()
            self._send_error(engine.from_exception(exc), query_id or None, encoding)
            return
        headers = {
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": dict(req.settings).get("session_timezone") or engine.timezone,
            "X-ClickHouse-Summary": json.dumps(result.summary, separators=(",", ":")),
        }
        if result.fmt:
            headers["X-ClickHouse-Format"] = result.fmt
            headers["Content-Type"] = content_type_for(result.fmt)
        else:
            headers["Content-Type"] = "text/plain; charset=UTF-8"
        out = result.body
        if encoding:
            level = (
                params.get("http_zlib_compression_level")
                or profile.get("http_zlib_compression_level")
                or engine.defaults.get("http_zlib_compression_level", "3")
            )
            out = compress_body(out, encoding, int(level))
            headers["Content-Encoding"] = encoding
        self._send(200, out, headers)

    def _parse_form(self, ctype: str, body: bytes) -> list[tuple[str, str]]:
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + body
        )
        out = []
        if not msg.is_multipart():
            raise self.server.engine.error("BAD_ARGUMENTS", "Malformed multipart/form-data body")
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_param("filename", header="content-disposition") is not None:
                raise self.server.engine.error(
                    "NOT_IMPLEMENTED", "chshim: external data (multipart file parts) is not supported"
                )
            payload = part.get_payload(decode=True) or b""
            out.append((str(name), payload.decode("utf-8")))
        return out

    def _authenticate(self, params: dict[str, str]) -> tuple[str, dict[str, str]]:
        engine = self.server.engine
        h_user = self.headers.get("X-ClickHouse-User", "")
        h_key = self.headers.get("X-ClickHouse-Key", "")
        auth = self.headers.get("Authorization", "")
        in_params = any(k in params for k in ("user", "password"))
        if h_user or h_key:
            if auth:
                raise engine.error(
                    "AUTHENTICATION_FAILED",
                    "Invalid authentication: it is not allowed to use "
                    "X-ClickHouse HTTP headers and other authentication methods simultaneously",
                )
            if in_params:
                raise engine.error(
                    "AUTHENTICATION_FAILED",
                    "Invalid authentication: it is not allowed to use "
                    "X-ClickHouse HTTP headers and authentication via parameters simultaneously",
                )
            user, password = h_user or "default", h_key
        elif auth:
            if in_params:
                raise engine.error(
                    "AUTHENTICATION_FAILED",
                    "Invalid authentication: it is not allowed to use "
                    "Authorization HTTP header and authentication via parameters simultaneously",
                )
            scheme, _, info = auth.partition(" ")
            if scheme.lower() != "basic":
                raise engine.error(
                    "AUTHENTICATION_FAILED",
                    f"Invalid authentication: '{scheme}' HTTP Authorization scheme is not supported",
                )
            try:
                decoded = base64.b64decode(info.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise engine.error(
                    "AUTHENTICATION_FAILED", "Invalid authentication: malformed Basic credentials"
                ) from None
            user, _, password = decoded.partition(":")
        else:
            user, password = params.get("user", "default"), params.get("password", "")
        spec = self.server.users.get(user)
        if spec is None or spec["password"] != password:
            raise engine.error(
                "AUTHENTICATION_FAILED",
                f"{user}: Authentication failed: password is incorrect, or there is no user with such name",
            )
        return user, dict(spec.get("settings") or {})


# -- child entry point ----------------------------------------------------------------------------


def serve() -> int:
    config = json.loads(sys.stdin.buffer.readline())
    engine = Engine(config["data_dir"])
    server = ShimServer((config.get("host", "127.0.0.1"), int(config.get("port", 0))), engine, config)
    port = server.server_address[1]
    out = sys.stdout.buffer
    out.write(f"CHSHIM LISTENING {port}\n".encode())
    out.flush()
    os.dup2(sys.stderr.fileno(), 1)  # anything the engine prints goes to the log, not the pipe

    stopping = threading.Event()

    def shutdown(*_):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    def watch_stdin():  # the parent closes stdin (or dies): stop
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            shutdown()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    threading.Thread(target=watch_stdin, daemon=True).start()
    sys.stderr.write(
        f"chshim: ClickHouse {engine.version} ({engine.timezone}) at {config['data_dir']} on port {port}\n"
    )
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        with engine.lock:
            for s in engine.sessions.values():
                with contextlib.suppress(Exception):
                    s.conn.close()
            engine.primary.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        sys.exit(serve())
    print(__doc__)
    print("Limitations:\n" + LIMITATIONS)
    sys.exit(2)
