"""Apply ``migrations/NNNN_name.sql`` in order, once each, recorded in ``schema_migrations``.

Why not Alembic: see migrations/README.md. The files use three tokens only: the database is the
client's current one, ``${RAW_TTL}`` and ``${RETENTION}`` become ClickHouse intervals. Statements in
a file are separated by a ``;`` at the end of a line. For a cluster (``CCTELEMETRY_CLUSTER``) each statement is
rendered again by store/cluster.py: ON CLUSTER, Replicated*MergeTree, Distributed tables sharded by session.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .clickhouse import Store
from .cluster import ClusterDDL
from .sqlfiles import render, statements, trusted

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version UInt32,
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree ORDER BY version
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    def statements(self, raw_ttl_hours: int, retention_days: int) -> list[str]:
        try:
            text = render(self.sql, RAW_TTL=trusted(interval(raw_ttl_hours * 3600)),
                          RETENTION=trusted(interval(retention_days * 86400)))  # fmt: skip
        except ValueError as exc:
            raise ValueError(f"migration {self.version:04d}_{self.name}: {exc}") from exc
        return statements(text)


def interval(seconds: int) -> str:
    """Render a TTL interval the way the exporter's GenerateTTLExpr does (72 h -> toIntervalDay(3))."""
    for unit, size in (("Day", 86400), ("Hour", 3600), ("Minute", 60)):
        if seconds % size == 0:
            return f"toInterval{unit}({seconds // size})"
    return f"toIntervalSecond({seconds})"


def migrations_dir() -> Path:
    """The packaged copy inside a wheel, else the repository's top-level ``migrations/``."""
    packaged = Path(__file__).resolve().parent.parent / "_migrations"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "migrations"


def load_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or migrations_dir()
    found = []
    for path in sorted(folder.glob("*.sql")):
        m = _FILE.match(path.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {folder}")
    return found


def applied_versions(store: Store) -> dict[int, str]:
    rows = store.query("SELECT version, checksum FROM schema_migrations").result_rows
    return {int(v): c for v, c in rows}


def rendered(database: str, raw_ttl_hours: int = 72, retention_days: int = 400, cluster: str = "",
             ) -> tuple[list[str], list[tuple[Migration, list[str]]]]:  # fmt: skip
    """The ledger's DDL and every migration's statements as they run: as written on one server, rendered for
    ``cluster`` when one is named (every file is rendered in order, applied or not: a later file may refer to an
    earlier file's table)."""
    if not cluster:
        return [_LEDGER], [(m, m.statements(raw_ttl_hours, retention_days)) for m in load_migrations()]
    ddl = ClusterDDL(cluster, database)
    ledger = ddl.render(_LEDGER)
    return ledger, [(m, [r for s in m.statements(raw_ttl_hours, retention_days) for r in ddl.render(s)])
                    for m in load_migrations()]  # fmt: skip


def migrate(store: Store, raw_ttl_hours: int = 72, retention_days: int = 400, cluster: str = "") -> list[Migration]:
    """Apply every pending migration; returns the ones applied now. Safe to run again."""
    ledger, files = rendered(store.database, raw_ttl_hours, retention_days, cluster)
    store.create_database(cluster)
    for statement in ledger:
        store.command(statement)
    done = applied_versions(store)
    applied = []
    for migration, to_run in files:
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                log.warning("migration %04d_%s changed after it was applied", migration.version, migration.name)
            continue
        for statement in to_run:
            store.command(statement)
        store.insert_plain(
            "schema_migrations",
            {"version": [migration.version], "name": [migration.name], "checksum": [migration.checksum]},
        )
        log.info("applied migration %04d_%s", migration.version, migration.name)
        applied.append(migration)
    return applied
