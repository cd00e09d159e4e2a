-- Cache hit ratio, and what cache misses and cache writes cost.
-- hit_ratio: cache reads over every input-side token (uncached input + cache reads + cache writes).
-- miss_and_write_usd: the uncached input and the cache writes at the prices paid (computed, by the price book);
-- at_read_rate_usd: the same tokens at each request's cache-read rate, had they been read from the cache;
-- premium_over_reads_usd: the difference.
SELECT
    requests,
    input_tokens,
    cache_read_tokens,
    cache_creation_tokens,
    cache_read_tokens / nullIf(input_tokens + cache_read_tokens + cache_creation_tokens, 0) AS hit_ratio,
    input_usd,
    cache_write_usd,
    cache_read_usd,
    toFloat64(toDecimal128(input_usd, 12) + toDecimal128(cache_write_usd, 12)) AS miss_and_write_usd,
    at_read_rate_usd,
    toFloat64(toDecimal128(input_usd, 12) + toDecimal128(cache_write_usd, 12) - toDecimal128(at_read_rate_usd, 12))
        AS premium_over_reads_usd
FROM
(
    SELECT
        count() AS requests,
        sum(s.input_tokens) AS input_tokens,
        sum(s.cache_read_tokens) AS cache_read_tokens,
        sum(s.cache_creation_tokens) AS cache_creation_tokens,
        ifNull(toFloat64(sum(toDecimal128(s.cost_input_usd, 12))), 0) AS input_usd,
        ifNull(toFloat64(sum(toDecimal128(s.cost_cache_write_5m_usd + s.cost_cache_write_1h_usd, 12))), 0) AS cache_write_usd,
        ifNull(toFloat64(sum(toDecimal128(s.cost_cache_read_usd, 12))), 0) AS cache_read_usd,
        ifNull(toFloat64(sum(toDecimal128((s.input_tokens + s.cache_creation_tokens) * s.rate_cache_read_per_mtok / 1000000,
                                   12))), 0) AS at_read_rate_usd
    FROM scope AS s
)
