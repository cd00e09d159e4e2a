"""The price book: the shipped ``prices.json`` plus the user's overrides, validated and resolved.

A book is a list of models; each has an id, aliases and RE2 patterns that select it, and one or more
prices (USD per million tokens) that apply from their ``effective_from`` day (UTC). A model's first
price also covers earlier days, so a late-dated entry never leaves old usage unpriced.

Matching (the same here and in ``sql/priced_requests.sql``): normalise the model id
(``normalize_model``), then an exact id or alias, then the first pattern that matches, user
entries' patterns before the shipped ones. No match means "unknown model", never $0.

User file (``CCTELEMETRY_PRICES_FILE``), same format as ``prices.json``:
  * a new ``id`` adds a model (``provider`` defaults to ``custom``, ``prices`` required);
  * an existing ``id`` overrides it: its aliases and patterns are added, each of its prices replaces
    the shipped price with the same ``effective_from`` or adds a new one (a price change);
  * an alias a user entry claims is taken away from any shipped model.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import BadRequest

CACHE_WRITE_TTLS = ("5m", "1h")
COST_MODES = ("auto", "calculate", "display")
FIRST_DAY = date(1970, 1, 1)

# (pattern, replacement) applied in order to the lower-cased, trimmed id. Kept in step with the
# expression in sql/priced_requests.sql; tests/pricing check both give the same result.
_NORMALIZE = [
    (r"\[[^\]]*\]$", ""),  # claude-sonnet-4-5[1m]
    (r"^.*/", ""),  # anthropic/…, openai/…, models/…, bedrock ARNs …/us.anthropic.…
    (r"^([a-z]{2,7}\.)?anthropic\.", ""),  # Bedrock: us.anthropic.claude-…, anthropic.claude-…
    (r"@.*$", ""),  # Vertex: claude-sonnet-4-5@20250929
    (r"-v\d+(:\d+)?$", ""),  # Bedrock: …-v1:0, Vertex: claude-3-5-sonnet-v2
    (r"-(\d{8}|\d{4}-\d{2}-\d{2})$", ""),  # -20250929, OpenAI -2025-08-07
    (r"-latest$", ""),
]


def normalize_model(model: str) -> str:
    m = (model or "").strip().lower()
    for pattern, repl in _NORMALIZE:
        m = re.sub(pattern, repl, m, count=1)
    return m


# -- schema -----------------------------------------------------------------------------------------

Money = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rates(_Strict):
    """USD per million tokens."""

    input: Money
    output: Money
    cache_read: Money
    cache_write_5m: Money
    cache_write_1h: Money


class LongContext(Rates):
    """Whole-request tier: every token of a request whose input side (input + cache read + cache
    write) exceeds ``threshold_tokens`` is priced at these rates."""

    threshold_tokens: int = Field(gt=0)


class Price(Rates):
    effective_from: date | None = None
    long_context: LongContext | None = None
    fast: Rates | None = None
    web_search_per_request: Money | None = None
    source: str = Field(min_length=1)
    notes: str = ""
    overridden: bool = False  # set by the loader: the price came from the user's file


class Model(_Strict):
    id: str = Field(min_length=1)
    provider: str | None = None
    aliases: list[str] = []
    patterns: list[str] = []
    prices: list[Price] = []
    notes: str = ""
    origin: str = "builtin"  # set by the loader: builtin | override | user


class PriceFile(_Strict):
    models: list[Model]


class PriceBookError(BadRequest):
    code = "bad_price_book"


# -- the book ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    model: str  # the id asked for
    priced_model: str  # the book entry matched
    price: Price
    applies_from: date
    overridden: bool


class PriceBook:
    def __init__(self, models: list[Model], files: list[str]):
        self.models = models
        self.files = files
        self._by_id = {m.id: m for m in models}
        self._exact: dict[str, str] = {}
        for m in models:
            self._exact[m.id] = m.id
            for alias in m.aliases:
                self._exact[alias] = m.id
        self._patterns = [(re.compile(p), m.id) for m in self._pattern_order() for p in m.patterns]

    def _pattern_order(self) -> list[Model]:
        return [m for m in self.models if m.origin != "builtin"] + [m for m in self.models if m.origin == "builtin"]

    def get(self, model_id: str) -> Model | None:
        return self._by_id.get(model_id)

    def match(self, model: str) -> str:
        """The book id a model id is priced as, '' when unknown."""
        norm = normalize_model(model)
        if norm in self._exact:
            return self._exact[norm]
        return next((mid for rx, mid in self._patterns if rx.search(norm)), "")

    def resolve(self, model: str, day: date | datetime | str | None = None) -> Resolved | None:
        """The price in force for ``model`` on ``day`` (UTC; default today), None for an unknown model."""
        priced = self.match(model)
        if not priced:
            return None
        day = _as_day(day)
        chosen: tuple[date, Price] | None = None
        for applies_from, price in _schedule(self._by_id[priced]):
            if chosen is None or applies_from <= day:
                chosen = (applies_from, price)
        assert chosen is not None  # the book's validation: every model has a price
        applies_from, price = chosen
        return Resolved(model, priced, price, applies_from, price.overridden)

    # -- rows for the ClickHouse tables (sync.py) and the price list report --

    def price_rows(self) -> list[dict[str, Any]]:
        rows = []
        for m in self.models:
            for applies_from, p in _schedule(m):
                lc, fast = p.long_context, p.fast
                rows.append({
                    "model_id": m.id, "provider": m.provider or "custom", "applies_from": applies_from,
                    "effective_from": p.effective_from,
                    **{f"{k}_per_mtok": getattr(p, k) for k in _RATE_FIELDS},
                    "long_context_threshold": lc.threshold_tokens if lc else 0,
                    **{f"lc_{k}_per_mtok": getattr(lc, k) if lc else 0.0 for k in _RATE_FIELDS},
                    "has_fast": 1 if fast else 0,
                    **{f"fast_{k}_per_mtok": getattr(fast, k) if fast else 0.0 for k in _RATE_FIELDS},
                    "web_search_per_request": p.web_search_per_request or 0.0,
                    "web_search_priced": 0 if p.web_search_per_request is None else 1,
                    "origin": m.origin, "overridden": 1 if p.overridden else 0, "source": p.source,
                })  # fmt: skip
        return rows

    def match_rows(self) -> list[dict[str, Any]]:
        rows = [{"kind": "exact", "key": key, "model_id": mid, "position": 0} for key, mid in self._exact.items()]
        rows += [{"kind": "pattern", "key": rx.pattern, "model_id": mid, "position": i + 1}
                 for i, (rx, mid) in enumerate(self._patterns)]  # fmt: skip
        return rows

    def digest(self) -> str:
        blob = json.dumps([self.price_rows(), self.match_rows()], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


_RATE_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")


def _schedule(model: Model) -> list[tuple[date, Price]]:
    """(applies_from, price) by date; the first price applies from the beginning of time."""
    ordered = sorted(model.prices, key=lambda p: p.effective_from or FIRST_DAY)
    # Only the first may lack effective_from: the book's validation allows one price per date.
    return [(p.effective_from if i and p.effective_from else FIRST_DAY, p) for i, p in enumerate(ordered)]


def _as_day(day: date | datetime | str | None) -> date:
    if day is None:
        return datetime.now(UTC).date()
    if isinstance(day, datetime):
        return (day.astimezone(UTC) if day.tzinfo else day).date()
    if isinstance(day, date):
        return day
    try:
        return date.fromisoformat(str(day)[:10])
    except ValueError as exc:
        raise BadRequest(f"cannot read day {day!r}: use YYYY-MM-DD") from exc


# -- loading ----------------------------------------------------------------------------------------


def builtin_path() -> Path:
    return Path(str(resources.files("cctelemetry.pricing").joinpath("prices.json")))


def check_choice(what: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise BadRequest(f"unknown {what} {value!r}: use {' or '.join(choices)}")
    return value


def load_book(user_file: str | Path | None = None, builtin: str | Path | None = None) -> PriceBook:
    """The shipped book merged with ``user_file`` (``CCTELEMETRY_PRICES_FILE``; none when empty)."""
    builtin = Path(builtin) if builtin else builtin_path()
    user_file = str(user_file or "")
    models = _read(builtin, new_models_need_prices=True)
    files = [str(builtin)]
    if user_file:
        path = Path(user_file).expanduser()
        models = _merge(models, _read(path, new_models_need_prices=False), path)
        files.append(str(path))
    _check_book(models, files[-1])
    return PriceBook(models, files)


def _read(path: Path, new_models_need_prices: bool) -> list[Model]:
    try:
        raw = json.loads(path.read_text())
    except OSError as exc:
        raise PriceBookError(f"cannot read prices file {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise PriceBookError(f"prices file {path} is not JSON: {where}: {exc.msg}") from exc
    raw = _drop_comments(raw)
    try:
        parsed = PriceFile.model_validate(raw)
    except ValidationError as exc:
        raise PriceBookError(_explain(path, raw, exc)) from exc
    for i, m in enumerate(parsed.models):
        where = f"prices file {path}: model {m.id!r} (models[{i}])"
        if normalize_model(m.id) != m.id:
            raise PriceBookError(f"{where}: id must be in normalised form, i.e. {normalize_model(m.id)!r}")
        if new_models_need_prices and not m.prices:
            raise PriceBookError(f"{where}: prices: at least one price is required")
        for j, pattern in enumerate(m.patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise PriceBookError(f"{where}: patterns[{j}]: not a regular expression: {exc}") from exc
        days = [p.effective_from for p in m.prices]
        if len(set(days)) != len(days):
            raise PriceBookError(f"{where}: prices: two prices with the same effective_from")
    ids = [m.id for m in parsed.models]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise PriceBookError(f"prices file {path}: model {dup!r} appears twice")
    return parsed.models


def _drop_comments(value: Any) -> Any:
    """Keys starting with '_' are comments, at any level."""
    if isinstance(value, dict):
        return {k: _drop_comments(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list):
        return [_drop_comments(v) for v in value]
    return value


def _explain(path: Path, raw: Any, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = list(err["loc"])
        where = f"prices file {path}"
        if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
            entry = raw["models"][loc[1]] if isinstance(raw.get("models"), list) else {}
            ident = entry.get("id") if isinstance(entry, dict) else None
            where += f": model {ident!r} (models[{loc[1]}])"
            loc = loc[2:]
        field = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        parts.append(f"{where}: {field or 'file'}: {err['msg']}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def _merge(builtin: list[Model], user: list[Model], path: Path) -> list[Model]:
    by_id = {m.id: m.model_copy(deep=True) for m in builtin}
    claimed = {normalize_model(a): u.id for u in user for a in u.aliases}
    for m in by_id.values():  # aliases a user entry claims leave the shipped model
        m.aliases = [a for a in m.aliases if claimed.get(normalize_model(a), m.id) == m.id]
    for i, u in enumerate(user):
        prices = [p.model_copy(update={"overridden": True}) for p in u.prices]
        base = by_id.get(u.id)
        if base is None:
            if not prices:
                where = f"prices file {path}: model {u.id!r} (models[{i}])"
                raise PriceBookError(f"{where}: prices: a new model needs a price")
            by_id[u.id] = u.model_copy(update={"provider": u.provider or "custom", "prices": prices, "origin": "user"})
            continue
        kept = [p for p in base.prices if p.effective_from not in {q.effective_from for q in prices}]
        by_id[u.id] = base.model_copy(update={
            "provider": u.provider or base.provider,
            "aliases": list(dict.fromkeys(base.aliases + u.aliases)),
            "patterns": list(dict.fromkeys(u.patterns + base.patterns)),
            "prices": kept + prices,
            "notes": u.notes or base.notes,
            "origin": "override",
        })  # fmt: skip
    return list(by_id.values())


# The hourly rollup keeps, per row, whether its requests' input side was over this many tokens: the one
# long-context threshold that prices can use (every provider's tier starts there today).
LONG_CONTEXT_THRESHOLD = 200_000


def _check_book(models: list[Model], path: str) -> None:
    owner: dict[str, str] = {m.id: m.id for m in models}
    for m in models:
        for p in m.prices:
            if p.long_context and p.long_context.threshold_tokens != LONG_CONTEXT_THRESHOLD:
                raise PriceBookError(
                    f"prices file {path}: model {m.id!r}: long_context.threshold_tokens must be "
                    f"{LONG_CONTEXT_THRESHOLD} (the rollup prices the long-context tier at that threshold)"
                )
        m.aliases = list(dict.fromkeys(normalize_model(a) for a in m.aliases))
        for alias in m.aliases:
            other = owner.setdefault(alias, m.id)
            if other != m.id:
                raise PriceBookError(
                    f"prices file {path}: model {m.id!r}: alias {alias!r} also selects model {other!r}"
                )
