"""Who may do what: one token check, used by the HTTP middleware (api/auth.py) and the OTLP/gRPC interceptor.

Tokens (config.py): ``CCTELEMETRY_API_TOKEN`` (or ``CCTELEMETRY_API_TOKEN_FILE``) may do everything: send
OTLP, import, read. ``CCTELEMETRY_READ_TOKENS`` (or ``CCTELEMETRY_READ_TOKENS_FILE``) may read: the REST
API, ad-hoc SQL (read-only by construction) and the dashboard. With no token configured nothing is
checked, which ``check_bind`` allows only on a loopback address.

A client sends its token as ``Authorization: Bearer <token>``, or in the header named by
``CCTELEMETRY_AUTH_HEADER``, which is what OTLP exporters send from ``OTEL_EXPORTER_OTLP_HEADERS``
(https://opentelemetry.io/docs/specs/otel/protocol/exporter/#configuration-options); a browser sends the
cookie set by ``/login`` or a ``?token=`` link. Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import TelemetryError

COOKIE = "cctelemetry_token"


class InsecureConfiguration(TelemetryError):
    code = "insecure_configuration"


class Access(enum.IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2


@dataclass(frozen=True)
class Tokens:
    write: tuple[str, ...] = field(default=(), repr=False)
    read: tuple[str, ...] = field(default=(), repr=False)
    header: str = ""  # another header that may carry the token, lower case

    @classmethod
    def from_settings(cls, settings) -> Tokens:
        return cls.from_values(settings.api_token.get_secret_value(), settings.api_token_file,
                               settings.read_tokens.get_secret_value(), settings.read_tokens_file,
                               settings.auth_header)  # fmt: skip

    @classmethod
    def from_values(cls, api_token: str = "", api_token_file: str = "", read_tokens: str = "",
                    read_tokens_file: str = "", auth_header: str = "") -> Tokens:  # fmt: skip
        """The tokens from the settings' raw values (also read without the settings model: locate.py)."""
        write = [api_token.strip()]
        if api_token_file:
            write += _read_file(api_token_file, "CCTELEMETRY_API_TOKEN_FILE")[:1]
        read = [t.strip() for t in read_tokens.split(",")]
        if read_tokens_file:
            read += _read_file(read_tokens_file, "CCTELEMETRY_READ_TOKENS_FILE")
        return cls(write=tuple(t for t in write if t), read=tuple(t for t in read if t),
                   header=auth_header.strip().lower())  # fmt: skip

    @property
    def enabled(self) -> bool:
        return bool(self.write or self.read)

    def access(self, token: str | None) -> Access:
        """What ``token`` may do (everything when no token is configured)."""
        if not self.enabled:
            return Access.WRITE
        if not token:
            return Access.NONE
        given = token.encode()
        # every comparison runs, so the time taken says nothing about which token (if any) was close
        write = any([hmac.compare_digest(given, t.encode()) for t in self.write])
        read = any([hmac.compare_digest(given, t.encode()) for t in self.read])
        return Access.WRITE if write else Access.READ if read else Access.NONE

    def token_from(self, headers: Mapping[str, str], cookie: str | None = None) -> str | None:
        """The token a request carries: Authorization: Bearer, the configured header, or the cookie."""
        auth = headers.get("authorization") or ""
        if auth[:9].lower() == "bearer%20":
            # OTEL_EXPORTER_OTLP_HEADERS values are URL-encoded (the OTel spec), but Claude Code 2.1.197's
            # OTLP/HTTP exporters send them undecoded: "Authorization=Bearer%20T" arrives as "Bearer%20T"
            auth = "Bearer " + auth[9:]
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return credentials.strip()
        if self.header:
            value = (headers.get(self.header) or "").strip()
            if value:
                scheme, _, rest = value.partition(" ")
                return rest.strip() if scheme.lower() == "bearer" and rest.strip() else value
        return cookie or None


def _read_file(path: str, setting: str) -> list[str]:
    try:
        lines = Path(path).expanduser().read_text().splitlines()
    except OSError as exc:
        raise InsecureConfiguration(f"cannot read {setting} {path!r}: {exc.strerror or exc}") from exc
    tokens = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not tokens:
        raise InsecureConfiguration(f"{setting} {path!r} holds no token")
    return tokens


def is_loopback(host: str) -> bool:
    """True when ``host`` (an address or a name) only ever means this machine."""
    host = host.strip().strip("[]")
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)


def check_bind(settings) -> Tokens:
    """The service's tokens; refuses a non-loopback address without one (unless explicitly allowed)."""
    tokens = Tokens.from_settings(settings)
    if not tokens.enabled and not is_loopback(settings.host) and not settings.allow_unauthenticated:
        raise InsecureConfiguration(
            f"refusing to listen on {settings.host!r} without an API token: anyone who can reach it could read "
            "every session and write fake spend. Set CCTELEMETRY_API_TOKEN (or CCTELEMETRY_API_TOKEN_FILE), or "
            "listen on 127.0.0.1 (see docs/security.md)"
        )
    return tokens
