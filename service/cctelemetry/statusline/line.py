"""The statusline: one line from Claude Code's input and, when the service answers, its figures.

    Opus │ $0.23 session │ $1.23 today │ $0.45 block, 2h 45m left │ $3.10/h │ 5h 23% ↻14:00 │ 7d 41% ↻Tue 09:00 │ ctx 8%

- session: the service's cost of the session when it has the session's requests, else Claude Code's own
  ``cost.total_cost_usd``; today and the active 5-hour block (with its time left and burn rate) only come
  from the service;
- ``5h``/``7d``: the official usage of the 5-hour and 7-day windows from the input's ``rate_limits``, with
  their reset times (local time); when the input has none, the latest the service recorded, marked ``~``
  when it is older than the staleness limit;
- colours: a window's percentage is green below ``CCTELEMETRY_STATUSLINE_WARN_PERCENT`` (50), yellow below
  ``CCTELEMETRY_STATUSLINE_CRITICAL_PERCENT`` (80), red from there; the burn rate by input + output tokens
  per minute, green below ``CCTELEMETRY_STATUSLINE_BURN_WARN_TPM`` (2000), yellow below
  ``CCTELEMETRY_STATUSLINE_BURN_CRITICAL_TPM`` (5000), red from there (ccusage's bands). ``NO_COLOR`` (any
  value) turns colours off.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, tzinfo

from .hook import Hook

WARN_PERCENT = 50.0
CRITICAL_PERCENT = 80.0
BURN_WARN_TPM = 2000.0
BURN_CRITICAL_TPM = 5000.0
SEPARATOR = " │ "
WINDOW_LABELS = {"five_hour": "5h", "seven_day": "7d"}

_CODES = {"green": "32", "yellow": "33", "red": "31", "dim": "2", "bold": "1"}


class Style:
    """Colours and thresholds (a plain class: see hook.py)."""

    def __init__(self, color: bool = True, warn_percent: float = WARN_PERCENT,
                 critical_percent: float = CRITICAL_PERCENT, burn_warn_tpm: float = BURN_WARN_TPM,
                 burn_critical_tpm: float = BURN_CRITICAL_TPM):  # fmt: skip
        self.color, self.warn_percent, self.critical_percent = color, warn_percent, critical_percent
        self.burn_warn_tpm, self.burn_critical_tpm = burn_warn_tpm, burn_critical_tpm

    @classmethod
    def from_env(cls, environ=os.environ) -> Style:
        """The thresholds from ``CCTELEMETRY_STATUSLINE_*`` (bad values are ignored: a statusline never fails)."""

        def number(name: str, default: float) -> float:
            try:
                return float(environ.get(f"CCTELEMETRY_STATUSLINE_{name}", default))
            except ValueError:
                return default

        return cls(color="NO_COLOR" not in environ, warn_percent=number("WARN_PERCENT", WARN_PERCENT),
                   critical_percent=number("CRITICAL_PERCENT", CRITICAL_PERCENT),
                   burn_warn_tpm=number("BURN_WARN_TPM", BURN_WARN_TPM),
                   burn_critical_tpm=number("BURN_CRITICAL_TPM", BURN_CRITICAL_TPM))  # fmt: skip

    def paint(self, text: str, *styles: str) -> str:
        codes = ";".join(_CODES[s] for s in styles if s)
        return f"\033[{codes}m{text}\033[0m" if self.color and codes else text

    def level(self, value: float, warn: float, critical: float) -> str:
        return "red" if value >= critical else "yellow" if value >= warn else "green"


def render(hook: Hook, figures: dict | None = None, style: Style | None = None,
           now: float | None = None, tz: tzinfo | None = None) -> str:  # fmt: skip
    """The line. ``figures``: the service's (``session_cost_usd``, ``today_cost_usd``, ``block``, ``limits``);
    ``tz``: where reset times are shown (default: this machine's local time)."""
    now = time.time() if now is None else now
    figures, style = figures or {}, style or Style()
    parts = [style.paint(hook.model_name, "bold")] if hook.model_name else []
    session = figures.get("session_cost_usd")
    session = session if isinstance(session, (int, float)) else hook.session_cost_usd
    if session is not None:
        parts.append(f"{dollars(session)} session")
    if isinstance(figures.get("today_cost_usd"), (int, float)):
        parts.append(f"{dollars(figures['today_cost_usd'])} today")
    parts += _block(figures.get("block"), style)
    parts += _limits(hook, figures.get("limits"), style, now, tz)
    if hook.context_used_percentage is not None:
        parts.append(f"ctx {hook.context_used_percentage:.0f}%")
    return SEPARATOR.join(parts)


def _block(block, style: Style) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("cost_usd"), (int, float)):
        return []
    text = f"{dollars(block['cost_usd'])} block"
    if isinstance(block.get("minutes_remaining"), (int, float)):
        text += f", {left(block['minutes_remaining'])}"
    out = [text]
    rate = block.get("burn_rate")
    if isinstance(rate, dict) and isinstance(rate.get("cost_usd_per_hour"), (int, float)):
        tpm = rate.get("non_cache_tokens_per_minute") or 0
        out.append(style.paint(f"{dollars(rate['cost_usd_per_hour'])}/h",
                               style.level(tpm, style.burn_warn_tpm, style.burn_critical_tpm)))  # fmt: skip
    return out


def _limits(hook: Hook, recorded, style: Style, now: float, tz: tzinfo | None) -> list[str]:
    out = []
    for window, label in WINDOW_LABELS.items():
        limit = hook.limit(window)
        mark = ""
        if limit is not None:
            used, resets = limit.used_percentage, limit.resets_at
        else:
            known = recorded.get(window) if isinstance(recorded, dict) else None
            if not isinstance(known, dict) or not isinstance(known.get("used_percentage"), (int, float)):
                continue
            if known.get("expired"):
                continue
            used, resets = known["used_percentage"], known.get("resets_at_epoch")
            mark = "~" if known.get("stale") else ""
        text = style.paint(f"{label} {mark}{used:.0f}%", style.level(used, style.warn_percent, style.critical_percent))
        if isinstance(resets, (int, float)) and resets > now:
            at = datetime.fromtimestamp(resets, tz) if tz is not None else datetime.fromtimestamp(resets)
            text += " ↻" + at.strftime("%H:%M" if window == "five_hour" else "%a %H:%M")
        out.append(text)
    return out


def dollars(value: float) -> str:
    return f"${value:,.2f}"


def left(minutes: float) -> str:
    minutes = max(int(minutes), 0)
    return f"{minutes // 60}h {minutes % 60:02d}m left" if minutes >= 60 else f"{minutes}m left"
