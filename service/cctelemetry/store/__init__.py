"""Storage: the ClickHouse client (both backends) and the migration runner."""

from .clickhouse import Store, Target, quote_ident

__all__ = ["Store", "Target", "quote_ident"]
