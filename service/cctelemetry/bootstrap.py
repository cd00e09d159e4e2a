"""Open a store, and make it ready to serve: the schema migrated, the price book synced into it, the
views people query rendered, and the facts caught up (the rollup rebuilt if a write did not finish or it
was never built, and what waits in the inbox taken in).

``prepare`` runs for ``cctelemetry migrate`` and when the service starts (``CCTELEMETRY_MIGRATE_ON_START``);
in the stack by the one-shot ``migrate`` container, as the writer user, since the service reads as a
read-only user.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .config import Settings
from .errors import NotFound
from .ingest import facts
from .pricing import current_book, sync_prices
from .reports.views import create_views
from .store import Store
from .store.migrate import Migration, migrate

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    created: bool = False
    applied: list[Migration] = field(default_factory=list)


def open_store(settings: Settings, *, create: bool = False) -> Store:
    """The configured store. Unless ``create``, an embedded store that does not exist yet is an error that
    says so: a report run against a mistyped folder must not leave an empty store behind."""
    url = settings.resolved_clickhouse_url()
    if not create and url.startswith("chdb://") and not _has_embedded_data(settings):
        raise NotFound(
            f"no cctelemetry data in {settings.data_dir.expanduser()} (start the service with `cctelemetry serve`, "
            "or `cctelemetry import` / `cctelemetry migrate` to create it; --data-dir or CCTELEMETRY_DATA_DIR "
            "chooses the folder)"
        )
    return Store(url, settings.database, write_url=settings.clickhouse_write_url)


def _has_embedded_data(settings: Settings) -> bool:
    """The engine writes ``metadata/<database>.sql`` when a database is created."""
    return (settings.data_dir.expanduser() / "metadata" / f"{settings.database}.sql").exists()


def prepare(store: Store, settings: Settings) -> Prepared:
    """Idempotent, and cheap when there is nothing to do (the CLI runs it before a local report)."""
    created = not store.database_exists()
    applied = migrate(store, settings.raw_ttl_hours, settings.retention_days, settings.cluster)
    sync_prices(store, current_book(settings.prices_file))
    create_views(store, settings)
    facts.recover(store)
    if created:
        log.info("created a new store", extra={"store": store.target.describe(), "database": store.database})
    return Prepared(created=created, applied=applied)
