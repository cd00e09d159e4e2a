"""Settings: one object, read from the environment (prefix ``CCTELEMETRY_``) and an optional ``.env``.

Priority, highest first: explicit CLI flags (passed as init kwargs), environment variables,
the ``.env`` file in the working directory, the defaults below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from . import locate


def default_data_dir() -> Path:
    return Path(locate.default_data_dir())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CCTELEMETRY_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Embedded ClickHouse data folder.")
    clickhouse_url: str = Field(
        default="",
        description="Where the data lives: chdb:///path (embedded) or http(s)://user:pass@host:8123/db. "
        "Empty means chdb:// in data_dir.",
    )
    database: str = Field(default="otel", description="ClickHouse database holding every table.")
    raw_ttl_hours: int = Field(default=72, ge=1, description="TTL of the raw otel_* tables, in hours.")
    retention_days: int = Field(default=400, ge=1, description="Retention of the fact and rollup tables, in days.")
    host: str = Field(default="127.0.0.1", description="Address the API and OTLP receiver listen on.")
    api_port: int = Field(default=8000, description="Port of the REST API, dashboard and /docs.")
    otlp_port: int = Field(default=4318, description="Port of the OTLP/HTTP receiver (also served on api_port).")
    grpc_port: int = Field(default=4317, ge=0, le=65535, description="Port of the OTLP/gRPC receiver; 0 turns it off.")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, description="Largest OTLP body accepted, after gunzip.")
    write_queue_rows: int = Field(default=200_000, description="Rows the write queue holds before answering 503.")
    write_flush_ms: int = Field(
        default=0,
        description="How long the writer waits to coalesce batches before a "
        "flush (0: group commit, a flush takes what arrived during the previous one).",
    )
    agent_type_attribute: str = Field(
        default="agent.type", description="Resource attribute reported as the agent_type dimension."
    )
    tz: str = Field(default="", description="Default time zone for day/hour reports; empty means the server's.")
    migrate_on_start: bool = Field(default=True, description="Apply pending migrations when the service starts.")
    prices_file: str = Field(
        default="", description="A JSON price file with overrides and additions to the shipped price book."
    )
    cost_mode: Literal["auto", "calculate", "display"] = Field(
        default="auto", description="auto: reported cost when the source has one, else computed; or always one."
    )
    cache_write_ttl: Literal["5m", "1h"] = Field(
        default="5m", description="TTL assumed for cache writes whose 5m/1h split the source does not give."
    )
    api_url: str = Field(
        default="", description="URL of a running service for the CLI; empty means http://host:api_port."
    )
    report_cache: bool = Field(
        default=True, description="The service reuses a report's result while the tables it read are unchanged."
    )
    sql_max_seconds: float = Field(
        default=30.0, gt=0, description="Time limit of one ad-hoc SQL query (POST /api/v1/sql, cctelemetry sql)."
    )
    sql_max_rows: int = Field(
        default=100_000,
        ge=1,
        description='Most rows an ad-hoc SQL query returns; more are cut and the answer says "truncated": true.',
    )
    clickhouse_write_url: str = Field(
        default="",
        description="The ClickHouse URL the service writes its own rows with (imports, snapshots); "
        "empty means clickhouse_url. In the stack: the writer user, while reports read as the reader.",
    )
    limits_stale_seconds: float = Field(
        default=600,
        gt=0,
        description="An official rate-limit figure older than this is marked stale (statusline, /api/v1/limits).",
    )
    limits_snapshot_seconds: float = Field(
        default=60,
        ge=0,
        description="The same rate-limit figure of a session is stored again at most this often (a change at once).",
    )
    statusline_refresh_seconds: float = Field(
        default=2,
        gt=0,
        description="How old the figures a statusline or "
        "monitor gets from the service may be before they are refreshed.",
    )
    statusline_warn_percent: float = Field(
        default=50, description="A rate-limit window's percentage shows yellow from here (statusline)."
    )
    statusline_critical_percent: float = Field(default=80, description="... and red from here.")
    statusline_burn_warn_tpm: float = Field(
        default=2000,
        description="The burn rate shows yellow from this many input + output tokens per minute (statusline).",
    )
    statusline_burn_critical_tpm: float = Field(default=5000, description="... and red from here.")
    monitor_active_minutes: int = Field(
        default=30,
        ge=1,
        description="A session is active (monitor) when it made a request in the last this many minutes.",
    )
    facts_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the service takes in request "
        "copies that others (the stack's collector) wrote into the inbox.",
    )
    facts_lookback_seconds: float = Field(
        default=30.0,
        ge=0,
        description="On a server, how far behind its bookmark "
        "the fact writer looks again, for inserts that were slow to become visible.",
    )
    idle_trim_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Embedded mode: once the writer has been idle this long after writing (and once after start), "
        "the service gives memory back to the system (api/memory.py); 0 turns it off.",
    )
    log_level: str = Field(default="INFO", description="Log level of the structured (JSON) logs.")
    metrics_port: int = Field(
        default=8889,
        ge=0,
        le=65535,
        description="Embedded mode: Prometheus /metrics also on this port, where the "
        "stack's collector serves it; 0 turns it off. /metrics is on the API port in every mode.",
    )
    metrics_max_series: int = Field(
        default=1000,
        ge=2,
        description="Most label sets one metric family of /metrics has: the first ones seen keep "
        "their own series, later ones are summed under the label value `other`.",
    )
    metrics_attributes: str = Field(
        default="team",
        description="Resource attributes that become labels on /metrics (comma-separated, e.g. "
        "team,agent.type; dots become underscores).",
    )
    budgets_file: str = Field(
        default="",
        description='A JSON file of budgets ({"budgets": [...]}), read beside those set with PUT /api/v1/budgets.',
    )
    budget_check_seconds: float = Field(
        default=60.0, gt=0, description="Budgets are checked after each write (debounced) and at least this often."
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, description="Time limit of one webhook delivery.")
    webhook_attempts: int = Field(
        default=6, ge=1, description="Deliveries tried per alert (backoff 1 s, 2 s, 4 s, ...)."
    )

    # -- ingest limits and content (ingest/policy.py) --------------------------------------------------
    max_items_per_request: int = Field(
        default=100_000,
        ge=0,
        description="Most log records, spans or data "
        "points in one OTLP request (413 over it); never more than write_queue_rows.",
    )
    max_attributes: int = Field(
        default=128,
        ge=0,
        description="Most attributes kept in one attribute map; the "
        "rest are dropped and counted (partial success). 0: no limit.",
    )
    max_attribute_length: int = Field(
        default=16_384,
        ge=0,
        description="Longest attribute value or log body "
        "kept, in characters; longer ones are cut and counted. 0: no limit.",
    )
    max_json_depth: int = Field(
        default=64, ge=8, le=400, description="Deepest nesting of an OTLP/JSON body (400 over it)."
    )
    store_prompts: bool = Field(
        default=False,
        description="Keep prompt and response text, tool inputs and raw "
        "API bodies that agents send; otherwise they are redacted at ingest.",
    )
    hash_emails: bool = Field(default=False, description="Store user.email as sha256:<16 hex digits>.")
    email_hash_salt: SecretStr = Field(default=SecretStr(""), description="Salt of the email hash.")

    # -- access (cctelemetry/security.py) --------------------------------------------------------------
    api_token: SecretStr = Field(
        default=SecretStr(""),
        description="The token every client must send (Bearer, "
        "or auth_header); required when host is not a loopback address.",
    )
    api_token_file: str = Field(default="", description="A file whose first line is the API token.")
    read_tokens: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated read-only tokens: the API, "
        "SQL and the dashboard, but no OTLP, import or other writes.",
    )
    read_tokens_file: str = Field(default="", description="A file with one read-only token per line.")
    auth_header: str = Field(
        default="",
        description="Another header that may carry a token, e.g. x-api-key "
        "(OTEL_EXPORTER_OTLP_HEADERS=x-api-key=TOKEN); Authorization: Bearer always works.",
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="Serve a non-loopback address without a token (only behind something that limits who can connect).",
    )
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed to call the API from a browser (CORS); empty: none."
    )

    # -- a hub and a cluster (docs/hub.md) ------------------------------------------------------------------
    max_upload_bytes: int = Field(
        default=512 * 2**20,
        ge=1,
        description="A hub: most bytes of session files one push (POST /api/v1/import/upload) may carry, after gunzip.",
    )
    host_name: str = Field(
        default="",
        description="This machine's name in the host dimension, for the session files "
        "it pushes to a hub (cctelemetry import --to); empty: the system's host name.",
    )
    cluster: str = Field(
        default="",
        description="A ClickHouse cluster (remote_servers) to create the schema on: "
        "ON CLUSTER, Replicated*MergeTree and Distributed tables sharded by session. Empty: one server.",
    )

    def resolved_clickhouse_url(self) -> str:
        return self.clickhouse_url or f"chdb://{self.data_dir.expanduser().resolve()}"

    def resolved_api_url(self) -> str:
        return self.api_url or f"http://{self.host}:{self.api_port}"

    def resolved_tz(self) -> str:
        return self.tz or local_timezone_name()


def local_timezone_name() -> str:
    """The server's IANA time zone name, falling back to UTC."""
    tz = os.environ.get("TZ")
    if tz:
        return tz.lstrip(":")
    try:
        link = os.readlink("/etc/localtime")
        return link.split("zoneinfo/", 1)[1]
    except (OSError, IndexError):
        pass
    try:
        return Path("/etc/timezone").read_text().strip() or "UTC"
    except OSError:
        return "UTC"


@lru_cache
def get_settings() -> Settings:
    return Settings()
