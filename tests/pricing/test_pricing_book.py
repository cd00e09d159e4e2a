"""The price book: what ships, how a user file merges in, and the errors a bad file gets."""

import json

import pytest

from cctelemetry.pricing import PriceBookError, load_book, normalize_model, sync_prices
from cctelemetry.pricing.book import builtin_path
from pricing_support import rates, write_prices

SHIPPED = load_book(user_file="")


def test_every_shipped_price_cites_a_public_source():
    for m in SHIPPED.models:
        assert m.prices and m.provider in ("anthropic", "openai", "google"), m.id
        for p in m.prices:  # a page, or the client's own table (a published npm package)
            assert "https://" in p.source or "@anthropic-ai/claude-code@" in p.source, (m.id, p.source)


def test_the_book_covers_claude_3_haiku_to_the_newest_claude_and_the_codex_and_gemini_models():
    ids = {m.id for m in SHIPPED.models}
    assert {"claude-3-haiku", "claude-3-opus", "claude-3-5-haiku", "claude-3-5-sonnet", "claude-3-7-sonnet",
            "claude-sonnet-4", "claude-opus-4", "claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5",
            "claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-sonnet-4-6",
            "claude-sonnet-5", "claude-fable-5", "claude-mythos-5",
            "gpt-5", "gpt-5-codex", "gemini-2.5-pro", "gemini-2.5-flash"} <= ids  # fmt: skip


def test_shipped_rates_follow_anthropics_multipliers():
    # https://platform.claude.com/docs/en/docs/about-claude/pricing: 5m write 1.25x, 1h write 2x, cache read 0.1x
    # of input, except Claude 3 Haiku, whose published rates are rounded: 0.25 in, 0.30 5m, 0.50 1h, 0.03 read.
    for m in SHIPPED.models:
        if m.provider != "anthropic" or m.id == "claude-3-haiku":
            continue
        for tier in [p for p in m.prices] + [p.long_context for p in m.prices if p.long_context] + \
                [p.fast for p in m.prices if p.fast]:  # fmt: skip
            assert tier.cache_write_5m == pytest.approx(1.25 * tier.input), m.id
            assert tier.cache_write_1h == pytest.approx(2 * tier.input), m.id
            assert tier.cache_read == pytest.approx(0.1 * tier.input), m.id


def test_every_alias_resolves_to_its_model():
    for entry in json.loads(builtin_path().read_text())["models"]:
        for name in [entry["id"], *entry.get("aliases", [])]:
            assert SHIPPED.match(name) == entry["id"], name


@pytest.mark.parametrize(
    "raw, norm",
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5[1m]", "claude-sonnet-4-5"),
        (" Claude-Opus-4-6 ", "claude-opus-4-6"),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("anthropic.claude-3-haiku-20240307-v1:0", "claude-3-haiku"),
        ("claude-opus-4-1@20250805", "claude-opus-4-1"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("gemini-2.5-pro", "gemini-2.5-pro"),
    ],
)
def test_normalisation(raw, norm):
    assert normalize_model(raw) == norm


def test_resolve_reports_the_entry_and_its_dates():
    r = SHIPPED.resolve("claude-sonnet-4-5-20250929[1m]", "2026-01-01")
    assert (r.priced_model, r.price.input, r.price.long_context.threshold_tokens) == ("claude-sonnet-4-5", 3.0, 200000)
    assert str(r.price.effective_from) == "2025-09-29" and r.overridden is False
    assert SHIPPED.resolve("claude-opus-5") is None


def test_user_file_marks_overrides_and_claims_aliases(tmp_path):
    path = write_prices(tmp_path, [
        {"id": "claude-sonnet-4-5", "aliases": ["claude-4-sonnet"],  # taken from claude-sonnet-4
         "prices": [{"effective_from": "2026-01-01", **rates(4, 20, 0.4, 5, 8)}]},
        {"id": "acme-coder", "provider": "acme", "prices": [rates(1, 2, 0.1, 0, 0)]},
    ])  # fmt: skip
    book = load_book(path)
    assert book.files == [str(builtin_path()), str(path)]
    sonnet = book.get("claude-sonnet-4-5")
    assert sonnet.origin == "override"
    assert [(str(p.effective_from), p.overridden) for p in sonnet.prices] == [
        ("2025-09-29", False),
        ("2026-01-01", True),
    ]
    assert book.match("claude-4-sonnet-20250514") == "claude-sonnet-4-5"
    assert "claude-4-sonnet" not in book.get("claude-sonnet-4").aliases
    assert (book.get("acme-coder").origin, book.get("acme-coder").provider) == ("user", "acme")
    assert book.get("claude-haiku-4-5").origin == "builtin"
    assert book.digest() != SHIPPED.digest()


def test_the_env_variable_names_the_user_file(tmp_path, monkeypatch):
    from cctelemetry.config import Settings

    path = write_prices(tmp_path, [{"id": "acme-coder", "prices": [rates(1, 2, 0.1, 0, 0)]}])
    monkeypatch.setenv("CCTELEMETRY_PRICES_FILE", str(path))
    assert load_book(Settings().prices_file).match("acme-coder") == "acme-coder"
    monkeypatch.setenv("CCTELEMETRY_PRICES_FILE", "")
    assert load_book(Settings().prices_file).match("acme-coder") == ""


@pytest.mark.parametrize(
    "content, message",
    [
        ([{"id": "x", "prices": [{**rates(1, 2, 0.1, 0, 0), "input": -1}]}],
         r"model 'x' \(models\[0\]\): prices\[0\]\.input: Input should be greater than or equal to 0"),
        ([{"id": "x", "prices": [{"input": 1, "output": 2, "cache_read": 0, "cache_write_5m": 0,
                                  "cache_write_1h": 0}]}],
         r"model 'x' \(models\[0\]\): prices\[0\]\.source: Field required"),
        ([{"id": "ok", "prices": [rates(1, 2, 0, 0, 0)]},
          {"id": "y", "prices": [{**rates(1, 2, 0, 0, 0), "outptu": 3}]}],
         r"model 'y' \(models\[1\]\): prices\[0\]\.outptu: Extra inputs are not permitted"),
        ([{"id": "x", "prices": [{**rates(1, 2, 0, 0, 0), "effective_from": "March 1st"}]}],
         r"model 'x' \(models\[0\]\): prices\[0\]\.effective_from: "),
        ([{"id": "x", "prices": [{**rates(1, 2, 0, 0, 0),
                                  "long_context": {**rates(2, 4, 0, 0, 0), "threshold_tokens": 0}}]}],
         r"prices\[0\]\.long_context\.threshold_tokens: Input should be greater than 0"),
        ([{"id": "x"}], r"model 'x' \(models\[0\]\): prices: a new model needs a price"),
        ([{"id": "x-20250101", "prices": [rates(1, 2, 0, 0, 0)]}], r"id must be in normalised form, i.e. 'x'"),
        ([{"id": "x", "prices": [rates(1, 2, 0, 0, 0)]}, {"id": "x", "prices": [rates(1, 2, 0, 0, 0)]}],
         r"model 'x' appears twice"),
        ([{"id": "x", "prices": [rates(1, 2, 0, 0, 0), rates(2, 2, 0, 0, 0)]}],
         r"two prices with the same effective_from"),
        ([{"id": "x", "aliases": ["shared"], "prices": [rates(1, 2, 0, 0, 0)]},
          {"id": "y", "aliases": ["shared"], "prices": [rates(1, 2, 0, 0, 0)]}],
         r"alias 'shared' also selects model 'x'"),
        ([{"id": "x", "patterns": ["(unclosed"], "prices": [rates(1, 2, 0, 0, 0)]}],
         r"model 'x' \(models\[0\]\): patterns\[0\]: not a regular expression"),
        ('{"models": [', r"is not JSON: line 1 column 13"),
        ('{"model": []}', r"file: Field required|models: Field required"),
    ],
)  # fmt: skip
def test_a_bad_file_says_which_entry_and_which_field(tmp_path, content, message):
    path = write_prices(tmp_path, content)
    with pytest.raises(PriceBookError, match=message) as info:
        load_book(path)
    assert str(path) in info.value.message
    assert info.value.status == 400


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(PriceBookError, match=r"cannot read prices file .*nope\.json"):
        load_book(tmp_path / "nope.json")


def test_comment_keys_are_allowed(tmp_path):
    path = write_prices(
        tmp_path,
        json.dumps(
            {
                "_about": "mine",
                "models": [
                    {
                        "_why": "house model",
                        "id": "x",
                        "prices": [{**rates(1, 2, 0, 0, 0), "_note": "from the invoice"}],
                    }
                ],
            }
        ),
    )
    assert load_book(path).match("x") == "x"


def test_sync_replaces_the_tables_and_is_idempotent(store, tmp_path):
    assert sync_prices(store, SHIPPED) is False  # the test store is prepared as the service prepares it
    n = store.scalar("SELECT count() FROM model_prices")
    assert n == sum(len(m.prices) for m in SHIPPED.models)
    assert sync_prices(store, SHIPPED) is False  # same book: nothing to do
    assert store.scalar("SELECT count() FROM model_prices") == n
    book = load_book(
        write_prices(tmp_path, [{"id": "acme-coder", "patterns": ["^acme-"], "prices": [rates(1, 2, 0, 0, 0)]}])
    )
    assert sync_prices(store, book) is True
    assert store.scalar("SELECT count() FROM model_prices") == n + 1
    assert store.scalar("SELECT uniqExact(book_digest) FROM model_prices") == 1
    assert store.scalar("SELECT count() FROM model_price_matches WHERE kind = 'pattern' AND key = '^acme-'") == 1
    assert sync_prices(store, SHIPPED) is True  # back again
    assert store.scalar("SELECT count() FROM model_prices") == n


def test_sync_refuses_a_pattern_clickhouse_cannot_run(store, tmp_path):
    # a look-behind compiles in Python but not in Hyperscan
    book = load_book(write_prices(tmp_path, [{"id": "x", "patterns": ["(?<=a)b"], "prices": [rates(1, 2, 0, 0, 0)]}]))
    with pytest.raises(PriceBookError, match=r"model 'x': pattern '\(\?<=a\)b' is not valid in ClickHouse"):
        sync_prices(store, book)
