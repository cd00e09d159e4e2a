-- The price book (service/cctelemetry/pricing/prices.json + the user's CCTELEMETRY_PRICES_FILE), as
-- the tables pricing/sql/priced_requests.sql joins at report time, so a corrected price fixes history.
-- pricing/sync.py replaces their contents (fills the *_next copies, then EXCHANGE TABLES) at service
-- start and after migrate; nothing else writes them. Rates are USD per million tokens.
CREATE TABLE IF NOT EXISTS model_prices
(
    `model_id` LowCardinality(String),
    `provider` LowCardinality(String),
    -- The ASOF JOIN key: the UTC day the price starts to apply (a model's first price: 1970-01-01).
    `applies_from` Date,
    -- As written in the book (NULL: no date given).
    `effective_from` Nullable(Date),
    `input_per_mtok` Float64,
    `output_per_mtok` Float64,
    `cache_read_per_mtok` Float64,
    `cache_write_5m_per_mtok` Float64,
    `cache_write_1h_per_mtok` Float64,
    -- Long-context tier: the whole request at these rates when input + cache read + cache write > threshold (0: none).
    `long_context_threshold` UInt64,
    `lc_input_per_mtok` Float64,
    `lc_output_per_mtok` Float64,
    `lc_cache_read_per_mtok` Float64,
    `lc_cache_write_5m_per_mtok` Float64,
    `lc_cache_write_1h_per_mtok` Float64,
    -- Fast mode (speed = 'fast'), when the book has rates for it.
    `has_fast` UInt8,
    `fast_input_per_mtok` Float64,
    `fast_output_per_mtok` Float64,
    `fast_cache_read_per_mtok` Float64,
    `fast_cache_write_5m_per_mtok` Float64,
    `fast_cache_write_1h_per_mtok` Float64,
    `web_search_per_request` Float64,
    `web_search_priced` UInt8,
    `origin` LowCardinality(String),
    `overridden` UInt8,
    `source` String,
    `book_digest` String,
    -- Always 1: tells a matched ASOF LEFT JOIN row from the defaults of a missing one.
    `present` UInt8 DEFAULT 1
)
ENGINE = MergeTree
ORDER BY (model_id, applies_from);

CREATE TABLE IF NOT EXISTS model_prices_next AS model_prices;

-- How a (normalised) model id finds its book entry: kind 'exact' (the id or an alias) or 'pattern'
-- (an RE2 regex; the lowest position that matches wins).
CREATE TABLE IF NOT EXISTS model_price_matches
(
    `kind` LowCardinality(String),
    `key` String,
    `model_id` LowCardinality(String),
    `position` UInt32
)
ENGINE = MergeTree
ORDER BY (kind, key);

CREATE TABLE IF NOT EXISTS model_price_matches_next AS model_price_matches;
