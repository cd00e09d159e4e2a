-- Model mix: spend by model (the price book's entry), and requests to an Opus model with at most
-- {small_output_tokens} output tokens ("small"), with what the same tokens would have cost on {compare_model}
-- by the price book (its long-context tier when the request exceeds its threshold, as every price is applied).
SELECT
    if(priced_model != '', priced_model, model) AS model_id,
    count() AS requests,
    toFloat64(sum(toDecimal128(cost_usd, 12))) AS model_cost_usd,
    countIf(small) AS small_requests,
    ifNull(toFloat64(sumIf(toDecimal128(cost_usd, 12), small)), 0) AS small_cost_usd,
    ifNull(toFloat64(sumIf(toDecimal128(computed_cost_usd, 12), small)), 0) AS small_computed_usd,
    if(countIf(small) = 0, 0, toFloat64(sumIf(toDecimal128(compare_usd, 12), small))) AS small_compare_usd,
    countIf(small AND compare_usd IS NULL) AS small_not_comparable
FROM
(
    SELECT
        s.*,
        startsWith(s.priced_model, 'claude-opus') AND s.output_tokens <= {small_output_tokens:UInt64} AS small,
        c.long_context_threshold > 0
            AND s.input_tokens + s.cache_read_tokens + s.cache_creation_tokens > c.long_context_threshold AS c_lc,
        if(c.present = 1,
           (s.input_tokens * if(c_lc, c.lc_input_per_mtok, c.input_per_mtok)
            + s.output_tokens * if(c_lc, c.lc_output_per_mtok, c.output_per_mtok)
            + s.cache_read_tokens * if(c_lc, c.lc_cache_read_per_mtok, c.cache_read_per_mtok)
            + s.billed_cache_write_5m_tokens * if(c_lc, c.lc_cache_write_5m_per_mtok, c.cache_write_5m_per_mtok)
            + s.billed_cache_write_1h_tokens * if(c_lc, c.lc_cache_write_1h_per_mtok, c.cache_write_1h_per_mtok))
           / 1000000 + s.web_search_requests * c.web_search_per_request,
           NULL) AS compare_usd
    FROM (SELECT *, {compare_model:String} AS _compare_model, toDate(timestamp, 'UTC') AS _day FROM scope) AS s
    -- the compare model's price in force on the request's UTC day
    ASOF LEFT JOIN model_prices AS c ON s._compare_model = c.model_id AND s._day >= c.applies_from
)
GROUP BY model_id
ORDER BY model_cost_usd DESC, model_id
