-- The book's rates as reports apply them (table model_rates, via ${TARGET}), from model_prices: for each price
-- and each kind of usage (fast mode asked or not, input side over the long-context threshold or not) the tier
-- that applies (fast when asked and priced, else long context when over the threshold and priced, else base)
-- and its rates per token, exact at 12 decimals (the book's rates per million have at most 6).
INSERT INTO ${TARGET}
SELECT
    model_id, applies_from, k.1 AS fast, k.2 AS long_context,
    multiIf(k.1 = 1 AND has_fast = 1, 'fast', k.2 = 1 AND long_context_threshold > 0, 'long_context', 'base') AS price_tier,
    toDecimal128(r_in, 12) / 1000000 AS input,
    toDecimal128(r_out, 12) / 1000000 AS output,
    toDecimal128(r_read, 12) / 1000000 AS cache_read,
    toDecimal128(w5, 12) / 1000000 AS cache_write_5m,
    toDecimal128(w1, 12) / 1000000 AS cache_write_1h,
    toDecimal128(web_search_per_request, 12) AS web_search,
    multiIf(price_tier = 'fast', fast_input_per_mtok, price_tier = 'long_context', lc_input_per_mtok,
            input_per_mtok) AS r_in,
    multiIf(price_tier = 'fast', fast_output_per_mtok, price_tier = 'long_context', lc_output_per_mtok,
            output_per_mtok) AS r_out,
    multiIf(price_tier = 'fast', fast_cache_read_per_mtok, price_tier = 'long_context', lc_cache_read_per_mtok,
            cache_read_per_mtok) AS r_read,
    multiIf(price_tier = 'fast', fast_cache_write_5m_per_mtok, price_tier = 'long_context',
            lc_cache_write_5m_per_mtok, cache_write_5m_per_mtok) AS w5,
    multiIf(price_tier = 'fast', fast_cache_write_1h_per_mtok, price_tier = 'long_context',
            lc_cache_write_1h_per_mtok, cache_write_1h_per_mtok) AS w1,
    overridden,
    1 AS present
FROM model_prices
ARRAY JOIN [(0, 0), (0, 1), (1, 0), (1, 1)] AS k
