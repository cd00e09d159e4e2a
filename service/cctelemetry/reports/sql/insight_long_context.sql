-- Long-context share and its premium: requests priced at their model's long-context tier (input + cache read
-- + cache write over the model's threshold: the whole request at the higher rates), what they cost, and what
-- the same tokens cost at the model's base rates. Claude Code's reported cost never applies the tier.
SELECT
    count() AS requests,
    countIf(price_tier = 'long_context') AS long_context_requests,
    countIf(input_tokens + cache_read_tokens + cache_creation_tokens > 200000) AS requests_over_200k,
    ifNull(toFloat64(sum(toDecimal128(computed_cost_usd, 12))), 0) AS computed_usd,
    ifNull(toFloat64(sumIf(toDecimal128(computed_cost_usd, 12), price_tier = 'long_context')), 0) AS long_context_usd,
    ifNull(toFloat64(sumIf(toDecimal128(reported_cost_usd, 12), price_tier = 'long_context')), 0) AS long_context_reported_usd,
    ifNull(toFloat64(sumIf(toDecimal128(base_usd, 12), price_tier = 'long_context')), 0) AS long_context_at_base_usd
FROM
(
    SELECT
        s.*,
        (s.input_tokens * p.input_per_mtok + s.output_tokens * p.output_per_mtok
         + s.cache_read_tokens * p.cache_read_per_mtok + s.billed_cache_write_5m_tokens * p.cache_write_5m_per_mtok
         + s.billed_cache_write_1h_tokens * p.cache_write_1h_per_mtok) / 1000000
        + s.web_search_requests * p.web_search_per_request AS base_usd
    FROM (SELECT *, toDate(timestamp, 'UTC') AS _day FROM scope) AS s
    -- the model's own price in force on the request's UTC day, at its base tier
    ASOF LEFT JOIN model_prices AS p ON s.priced_model = p.model_id AND s._day >= p.applies_from
)
