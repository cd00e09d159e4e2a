"""The few settings a client needs to find a running service, read without the settings model.

``cctelemetry usage`` against a running service must start in well under 300 ms, and building the pydantic
settings (config.py) costs some 150 ms of imports alone. A client needs only where the data folder is, an
explicit service URL, the default address and its token: this module reads them from the same sources in
the same order as config.py (the environment over ``.env``, names case-insensitive like pydantic-settings'
default, https://docs.pydantic.dev/latest/concepts/pydantic_settings/#case-sensitivity), with the standard
library alone. config.py and the statusline take the default data folder from here, so they cannot drift.
"""

from __future__ import annotations

import os

# the statusline imports this module on every run: no `typing` (10 ms), the annotations' names for checkers only
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

PREFIX = "CCTELEMETRY_"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_API_PORT = 8000


def environment(environ: Mapping[str, str] | None = None, dotenv: str = ".env") -> dict[str, str]:
    """Every ``CCTELEMETRY_*`` value, names upper-cased: the environment wins over the ``.env`` file."""
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    if dotenv and os.path.isfile(dotenv):
        from dotenv import dotenv_values  # only when there is a file: it is pydantic-settings' own reader

        values.update({k.upper(): v for k, v in dotenv_values(dotenv).items() if v is not None})
    values.update({k.upper(): v for k, v in environ.items()})
    return {k: v for k, v in values.items() if k.startswith(PREFIX)}


def default_data_dir(environ: Mapping[str, str] | None = None) -> str:
    """The user's data folder: ``$XDG_DATA_HOME/cctelemetry`` (``~/.local/share/cctelemetry``)."""
    environ = os.environ if environ is None else environ
    home = environ.get("HOME") or os.path.expanduser("~")
    base = environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return os.path.join(base, "cctelemetry")


def data_dir(env: Mapping[str, str]) -> str:
    return os.path.expanduser(env.get(PREFIX + "DATA_DIR") or default_data_dir())


def default_api_url(env: Mapping[str, str]) -> str:
    host = env.get(PREFIX + "HOST") or DEFAULT_HOST
    return env.get(PREFIX + "API_URL") or f"http://{host}:{env.get(PREFIX + 'API_PORT') or DEFAULT_API_PORT}"


def client_token(env: Mapping[str, str]) -> str | None:
    """The token a client sends: the API token (or its file), else the first read-only token."""
    from .security import Tokens

    tokens = Tokens.from_values(
        api_token=env.get(PREFIX + "API_TOKEN", ""),
        api_token_file=env.get(PREFIX + "API_TOKEN_FILE", ""),
        read_tokens=env.get(PREFIX + "READ_TOKENS", ""),
        read_tokens_file=env.get(PREFIX + "READ_TOKENS_FILE", ""),
    )
    return (tokens.write or tokens.read or (None,))[0]
