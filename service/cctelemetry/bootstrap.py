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


def prepare(store: Store, settings: Settings, repair: bool = True) -> list[Migration]:
    """``repair`` also merges what a crash left unmerged: a scan of every request, done when the service
    starts and by ``cctelemetry migrate``, not on every CLI call."""
    applied = migrate(store, settings.raw_ttl_hours, settings.retention_days)
    sync_prices(store, current_book(settings.prices_file))
    if repair:
        merge_all(store)
    return applied
