"""What every report is asked: which requests (``RequestFilter``) and how to price them (``Pricing``), built
from raw parameters the same way for the API's query string and the CLI's options."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..pricing import pricing_params
from .query import RequestFilter


@dataclass(frozen=True)
class Pricing:
    """How a report prices requests: the mode and the TTL assumed for cache writes of unknown TTL."""

    mode: str = "auto"
    cache_write_ttl: str = "5m"

    @classmethod
    def from_settings(cls, settings: Settings, mode: str | None = None) -> Pricing:
        return cls(mode=mode or settings.cost_mode, cache_write_ttl=settings.cache_write_ttl)

    def params(self) -> dict[str, str]:
        return pricing_params(self.cache_write_ttl, self.mode)


def request_filter(
    settings: Settings,
    since: str | None = None,
    until: str | None = None,
    tz: str | None = None,
    filters: dict[str, str] | None = None,
    group_by: list[str] | tuple = (),
) -> RequestFilter:
    """The requests a report covers, from raw values (``7d``, ``2026-11-01``, ``model=...``)."""
    return RequestFilter.build(since, until, tz or settings.resolved_tz(), filters or {},
                               settings.agent_type_attribute, group_by)  # fmt: skip
