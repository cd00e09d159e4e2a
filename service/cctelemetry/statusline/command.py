"""``cctelemetry statusline``: the command Claude Code runs on every statusline update, with its statusline
JSON on stdin; prints one line.

It posts the input to the service (``POST /api/v1/statusline``), which records the official rate limits
and answers with the line rendered from its reports. When no service answers within the time limit, it
prints what the input alone gives (model, Claude Code's session cost, the official limits). It never fails:
whatever happens, it prints a line and exits 0, so the statusline never shows an error.

Claude Code debounces updates at 300 ms and cancels a command still running when the next one comes
(https://code.claude.com/docs/en/statusline), so this must be quick: standard library only, and HTTP over a
plain socket (``http.client`` and ``urllib`` import ``ssl``, some 40 ms), and the C module ``_socket`` itself:
``socket`` imports ``selectors`` and ``enum``, 12-38 ms here against 0.7 ms; ``socket`` and ``ssl`` only for an
https URL.

``--then COMMAND``: another statusline command (the one you had before, kept by ``setup-telemetry.sh
--statusline``) runs on the same input at the same time; its lines come first, this one's last.

Where the service is, in order: ``--api-url``, ``CCTELEMETRY_API_URL``, ``service.json`` in the data folder
(``CCTELEMETRY_DATA_DIR``, else ``$XDG_DATA_HOME/cctelemetry``), the installer's record
(``$XDG_STATE_HOME/cctelemetry/install.json``), ``http://CCTELEMETRY_HOST:CCTELEMETRY_API_PORT``.
"""

from __future__ import annotations

import _socket
import os
import sys
import time

from .. import locate

DEFAULT_TIMEOUT_MS = 500  # CCTELEMETRY_STATUSLINE_TIMEOUT_MS
MAX_INPUT = 1 << 20


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[2:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        sys.stdout.write(
            __doc__.strip()
            + "\n\nusage: cctelemetry statusline [--api-url URL] [--offline] [--then COMMAND] [--json] < input.json\n"
        )
        return 0
    try:
        raw = sys.stdin.buffer.read(MAX_INPUT)
    except (OSError, ValueError):
        raw = b""
    deadline = time.monotonic() + timeout_s(os.environ)
    previous = start_previous(option(args, "--then"), raw)
    try:
        line = statusline(raw, args, os.environ)
    except Exception:  # noqa: BLE001 - a statusline must print something, whatever went wrong
        line = ""
    if previous is not None:
        before = finish_previous(previous, deadline)
        line = before + line if before else line
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    return 0


def statusline(raw: bytes, args: list[str], environ) -> str:
    """The service's line for this input; without one, the line from the input alone. The input goes to the
    service as it came (the service checks it): ``json`` and the renderer load only when it must be read here."""
    as_json = "--json" in args
    if raw.strip() and "--offline" not in args:
        params = {"format": "json" if as_json else "text"} | ({"color": "false"} if "NO_COLOR" in environ else {})
        answer = post(service_url(args, environ), "/api/v1/statusline", raw, params, environ, timeout_s(environ))
        if answer is not None:
            return answer.decode("utf-8", "replace").rstrip("\n")
    line = offline_line(raw, environ)
    if as_json:  # the service's answer's shape, without its figures
        import json

        return json.dumps({"line": line, "figures": None, "stored_snapshots": 0})
    return line


def offline_line(raw: bytes, environ) -> str:
    import json

    from .hook import Hook
    from .line import Style, render

    try:
        data = json.loads(raw) if raw.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return "cctelemetry: no statusline input"
    return render(Hook.parse(data), None, Style.from_env(environ))


def timeout_s(environ) -> float:
    try:
        return max(float(environ.get("CCTELEMETRY_STATUSLINE_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)), 1) / 1000
    except ValueError:
        return DEFAULT_TIMEOUT_MS / 1000


def option(args: list[str], name: str) -> str:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return ""


def start_previous(command: str, raw: bytes):
    """Run ``command`` with ``/bin/sh -c`` on the same input (fork and exec: ``subprocess`` costs ~10 ms to
    import); returns (pid, its stdout) or None."""
    if not command:
        return None
    try:
        in_read, in_write = os.pipe()
        out_read, out_write = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child
        try:
            os.dup2(in_read, 0)
            os.dup2(out_write, 1)
            for fd in (in_read, in_write, out_read, out_write):
                os.close(fd)
            os.execv("/bin/sh", ["sh", "-c", command])
        finally:
            os._exit(127)
    os.close(in_read)
    os.close(out_write)
    # Not contextlib.suppress: a statusline is a fresh process each time and contextlib (with collections and
    # functools) would be the cold path's heaviest import.
    try:  # noqa: SIM105
        os.write(in_write, raw[:60000])  # within a pipe's buffer: never blocks
    except OSError:
        pass
    os.close(in_write)
    return pid, out_read


def finish_previous(previous, deadline: float) -> str:
    """Its output so far (a line per row, each ending in a newline), read until it exits or ``deadline``."""
    import select

    pid, fd = previous
    chunks = []
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                break
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        pass
    finally:
        os.close(fd)
        try:
            if os.waitpid(pid, os.WNOHANG) == (0, 0):
                os.kill(pid, 9)
                os.waitpid(pid, 0)
        except OSError:
            pass
    text = b"".join(chunks).decode("utf-8", "replace").rstrip("\n")
    return text + "\n" if text else ""


def service_url(args: list[str], environ) -> str:
    if option(args, "--api-url"):
        return option(args, "--api-url")
    if environ.get("CCTELEMETRY_API_URL"):
        return environ["CCTELEMETRY_API_URL"]
    home = environ.get("HOME") or os.path.expanduser("~")
    data_dir = environ.get("CCTELEMETRY_DATA_DIR") or locate.default_data_dir(environ)
    state = os.path.join(environ.get("XDG_STATE_HOME") or os.path.join(home, ".local", "state"), "cctelemetry",
                         "install.json")  # fmt: skip
    for path in (os.path.join(os.path.expanduser(data_dir), "service.json"), state):
        url = _recorded_url(path)
        if url:
            return url
    return f"http://{environ.get('CCTELEMETRY_HOST') or '127.0.0.1'}:{environ.get('CCTELEMETRY_API_PORT') or 8000}"


def _recorded_url(path: str) -> str:
    """``"api_url": "..."`` from a small JSON file we wrote (service.json, install.json), without ``json``."""
    try:
        with open(path, "rb") as fh:
            text = fh.read(65536).decode("utf-8", "replace")
    except OSError:
        return ""
    _, found, rest = text.partition('"api_url"')
    value = rest.lstrip(" :\t").split('"')
    return value[1] if found and len(value) > 1 and rest.lstrip(" :\t").startswith('"') else ""


def post(url: str, path: str, body: bytes, params: dict[str, str], environ, timeout: float) -> bytes | None:
    """POST ``body`` (JSON) to ``url + path``; the answer's body when it is a 200, else None."""
    deadline = time.monotonic() + timeout
    scheme, _, rest = url.partition("://")
    if not rest:
        scheme, rest = "http", url
    hostport, _, prefix = rest.partition("/")
    host, port = _host_port(hostport, 443 if scheme == "https" else 80)
    query = "&".join(f"{k}={v}" for k, v in params.items())
    target = ("/" + prefix.strip("/") if prefix.strip("/") else "") + path + (f"?{query}" if query else "")
    headers = [f"POST {target} HTTP/1.1", f"Host: {hostport}", "Content-Type: application/json",
               f"Content-Length: {len(body)}", "Connection: close", "User-Agent: cctelemetry-statusline"]  # fmt: skip
    if environ.get("CCTELEMETRY_API_TOKEN"):
        headers.append(f"Authorization: Bearer {environ['CCTELEMETRY_API_TOKEN']}")
    request = ("\r\n".join(headers) + "\r\n\r\n").encode() + body
    try:
        sock = _connect(host, port, timeout, tls=scheme == "https")
        try:
            sock.sendall(request)
            answer = _read_all(sock, deadline)
        finally:
            sock.close()
        return _body_of(answer)
    except (OSError, ValueError, IndexError):
        return None


def _connect(host: str, port: int, timeout: float, tls: bool = False):
    """A connected socket (every address of ``host`` in turn, as ``socket.create_connection``)."""
    if tls:
        import socket
        import ssl

        plain = socket.create_connection((host, port), timeout=timeout)
        return ssl.create_default_context().wrap_socket(plain, server_hostname=host)
    error: OSError = OSError(f"cannot resolve {host}")
    for family, kind, proto, _, address in _socket.getaddrinfo(host, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error


def _host_port(hostport: str, default: int) -> tuple[str, int]:
    if hostport.startswith("["):  # [::1]:8000
        host, _, port = hostport[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    return host, int(port) if port.isdigit() else default


def _read_all(sock, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("statusline: the service took too long")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _body_of(answer: bytes) -> bytes | None:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if int(lines[0].split()[1]) != 200:
        return None
    if any(line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower() for line in lines[1:]):
        body = _unchunk(body)
    return body


def _unchunk(data: bytes) -> bytes:
    out, rest = [], data
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2 :]
    return b"".join(out)


if __name__ == "__main__":  # python -m cctelemetry.statusline.command
    sys.exit(main(sys.argv[1:]))
