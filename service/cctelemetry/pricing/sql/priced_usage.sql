-- Priced usage: every column of the preceding CTE `usage` plus what it costs by the price book (tables
-- model_resolutions and model_rates, made by pricing/sync.py from the book). A row of `usage` is one request (the
-- per-request views) or a sum over many requests that share what their price depends on (the hourly
-- rollup, and the reports' pre-aggregation): the model, the UTC day, speed, the long-context flag and how the
-- cost was reported. Cost is linear in tokens, and all money is Decimal128(12) (rates per token are exact at
-- 12 decimals), so pricing a sum gives exactly the sum of the requests' prices.
-- Use it as `WITH usage AS (...), priced AS (<this file>) SELECT ... FROM priced`.
--
-- The columns `usage` must have (reports/source.py makes them, from store/sql/usage_rows.sql):
--   price_day Date (UTC, the day whose price applies), model, speed, long_context (input + cache read + cache
--   write over 200,000 tokens), reported_kind (0: no reported cost, 1: reported 0 with billable usage,
--   2: reported 0 and nothing billable, 3: reported non-zero), requests, input_tokens, output_tokens,
--   cache_read_tokens, cache_creation_tokens, cache_write_1h_known (cache writes known to be 1-hour ones),
--   cache_write_unknown (cache writes whose 5m/1h split is not known), web_search_requests, reported_cost.
--
-- Parameters:
--   {cache_write_ttl:String}  '5m' | '1h': the TTL assumed for cache writes whose split is not known.
--                             Claude Code assumes 5m.
--   {cost_mode:String}        'auto' (reported when the source has it, except a reported 0 for usage that
--                             costs something) | 'calculate' | 'display'.
--
-- Columns added:
--   priced_model                 the book entry used ('' when the model is unknown)
--   price_tier                   base | long_context | fast ('' when unknown)
--   computed_cost_usd            NULL for an unknown model, never 0
--   cost_{input,output,cache_read,cache_write_5m,cache_write_1h,web_search}_usd   its parts
--   reported_cost_usd            NULL when no cost was reported
--   cost_usd, cost_source        the cost by {cost_mode}, and which one it is ('reported' | 'computed' | '')
--   billed_cache_write_{5m,1h}_tokens   how the cache writes were split
--   and where the EXPLAIN token is: nothing, or (per-request views: the reconcile report, the insights,
--   the requests view)
--   priced_usage_explain.sql's cache_write_ttl_assumed, rate_{input,output,cache_read,cache_write_5m,
--   cache_write_1h}_per_mtok and price_overridden. Sums leave them out: the engine analyses every column
--   of a query each time, read or not.
--
-- Rules (docs/pricing.md): cost = tokens x rate per token type, + web searches x the per-request price. Known
-- 1-hour writes are priced at the 1h rate, the rest of the writes at the 5m rate (unknown ones at
-- {cache_write_ttl}'s). The model id is resolved once (model_resolutions), and the rates of the tier that
-- applies (fast mode when asked and priced, else the long-context tier when the input side is over its
-- threshold, else base: model_rates, made by pricing/sql/rates.sql) are those in force on the row's UTC day.
--
-- No semicolons in this file, comments included: clickhouse-connect re-lexes a query that has one (~2 ms).
SELECT
    u.*,
    if(p.present = 1, p.model_id, '') AS priced_model,
    if(p.present = 1, p.price_tier, '') AS price_tier,
    if(p.present = 1, u.input_tokens * p.input, NULL) AS cost_input_usd,
    if(p.present = 1, u.output_tokens * p.output, NULL) AS cost_output_usd,
    if(p.present = 1, u.cache_read_tokens * p.cache_read, NULL) AS cost_cache_read_usd,
    u.cache_write_1h_known + if({cache_write_ttl:String} = '1h', u.cache_write_unknown, 0) AS billed_cache_write_1h_tokens,
    u.cache_creation_tokens - billed_cache_write_1h_tokens AS billed_cache_write_5m_tokens,
    if(p.present = 1, billed_cache_write_5m_tokens * p.cache_write_5m, NULL) AS cost_cache_write_5m_usd,
    if(p.present = 1, billed_cache_write_1h_tokens * p.cache_write_1h, NULL) AS cost_cache_write_1h_usd,
    if(p.present = 1, u.web_search_requests * p.web_search, NULL) AS cost_web_search_usd,
    cost_input_usd + cost_output_usd + cost_cache_read_usd + cost_cache_write_5m_usd + cost_cache_write_1h_usd
        + cost_web_search_usd AS computed_cost_usd,
    if(u.reported_kind = 0, NULL, u.reported_cost) AS reported_cost_usd,
${EXPLAIN}
    multiIf(
        {cost_mode:String} = 'calculate', if(p.present = 1, 'computed', ''),
        {cost_mode:String} = 'display', if(u.reported_kind = 0, '', 'reported'),
        u.reported_kind IN (2, 3), 'reported',
        u.reported_kind = 1 AND NOT (p.present = 1 AND computed_cost_usd > 0), 'reported',
        p.present = 1, 'computed',
        '') AS cost_source,
    multiIf(cost_source = 'reported', reported_cost_usd, cost_source = 'computed', computed_cost_usd, NULL) AS cost_usd
FROM usage AS u
LEFT JOIN (SELECT model AS _r_model, priced_model AS _r_priced FROM model_resolutions) AS r ON r._r_model = u.model
-- (the rates' columns renamed: none may shadow a column of `usage`, which the caller selects by name)
ASOF LEFT JOIN
(
    SELECT model_id AS _p_model, fast AS _p_fast, long_context AS _p_lc, applies_from AS _p_from, *
    FROM model_rates
) AS p ON p._p_model = r._r_priced AND p._p_fast = toUInt8(u.speed = 'fast') AND p._p_lc = u.long_context
      AND u.price_day >= p._p_from
