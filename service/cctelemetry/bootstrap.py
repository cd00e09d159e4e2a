"""Make a store ready to serve: the schema migrated, the price book synced into it, any request that
two sources delivered merged.

Run by ``cctelemetry migrate`` and when the service starts (``CCTELEMETRY_MIGRATE_ON_START``); in the
stack by the one-shot ``migrate`` container, as the writer user, since the service reads as a
read-only user.
"""

from __future__ import annotations

from .config import Settings
from .ingest.merge import merge_all
from .pricing import sync_prices
from .reports.cost import current_book
from .store import Store
from .store.migrate import Migration, migrate


def prepare(store: Store, settings: Settings) -> list[Migration]:
    applied = migrate(store, settings.raw_ttl_hours, settings.retention_days)
    sync_prices(store, current_book(settings.prices_file))
    merge_all(store)
    return applied
