-- Priced usage: every column of the preceding CTE `usage` plus what it costs by the price book (tables
-- model_prices and model_price_matches, filled by pricing/sync.py). A row of `usage` is one request (the
-- per-request views) or a sum over many requests that share what their price depends on (the hourly
-- rollup, and the reports' pre-aggregation): the model, the UTC day, speed, the long-context flag and how the
-- cost was reported. Cost is linear in tokens, and all money is Decimal128(12) (rates per token are exact at
-- 12 decimals), so pricing a sum gives exactly the sum of the requests' prices.
-- Use it as `WITH usage AS (...), priced AS (<this file>) SELECT ... FROM priced`.
--
-- The columns `usage` must have (reports/sql/requests.sql and ingest/sql/usage_rows.sql make them):
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
--   billed_cache_write_{5m,1h}_tokens, cache_write_ttl_assumed, rate_cache_write_{5m,1h}_per_mtok,
--   price_overridden             how the cache writes were split, and the rates (for the reconcile report)
--
-- Rules (docs/pricing.md): cost = tokens x rate / 1e6 per token type, + web searches x the per-request
-- price. Known 1-hour writes are priced at the 1h rate, the rest of the writes at the 5m rate (unknown ones
-- at {cache_write_ttl}'s). The long-context tier prices the whole request when its input side is over the
-- model's threshold (200,000 tokens for every model of the book: the book refuses others, since the
-- rollup keeps a flag for that threshold only). Fast mode (speed = 'fast') uses the book's fast rates.
--
-- No semicolons in this file, comments included: clickhouse-connect re-lexes a query that has one (~2 ms).
SELECT
    q.* EXCEPT (_price_day, _matched_model, _known, _fast, _lc, _r_in, _r_out, _r_read, _r_5m, _r_1h, _ws_rate,
                _f_5m, _f_1h),
    if(_known, _matched_model, '') AS priced_model,
    if(_known, q.input_tokens * _r_in, NULL) AS cost_input_usd,
    if(_known, q.output_tokens * _r_out, NULL) AS cost_output_usd,
    if(_known, q.cache_read_tokens * _r_read, NULL) AS cost_cache_read_usd,
    if(_known, billed_cache_write_5m_tokens * _r_5m, NULL) AS cost_cache_write_5m_usd,
    if(_known, billed_cache_write_1h_tokens * _r_1h, NULL) AS cost_cache_write_1h_usd,
    if(_known, q.web_search_requests * _ws_rate, NULL) AS cost_web_search_usd,
    cost_input_usd + cost_output_usd + cost_cache_read_usd + cost_cache_write_5m_usd + cost_cache_write_1h_usd
        + cost_web_search_usd AS computed_cost_usd,
    if(q.reported_kind = 0, NULL, q.reported_cost) AS reported_cost_usd,
    if(_known, _f_5m, NULL) AS rate_cache_write_5m_per_mtok,
    if(_known, _f_1h, NULL) AS rate_cache_write_1h_per_mtok,
    multiIf(
        {cost_mode:String} = 'calculate', if(_known, 'computed', ''),
        {cost_mode:String} = 'display', if(q.reported_kind = 0, '', 'reported'),
        q.reported_kind IN (2, 3), 'reported',
        q.reported_kind = 1 AND NOT (_known AND computed_cost_usd > 0), 'reported',
        _known, 'computed',
        '') AS cost_source,
    multiIf(cost_source = 'reported', reported_cost_usd, cost_source = 'computed', computed_cost_usd, NULL) AS cost_usd
FROM
(
    SELECT
        r.*,
        m._matched_model AS _matched_model,
        ifNull(p.present, 0) = 1 AS _known,
        _known AND r.speed = 'fast' AND p.has_fast = 1 AS _fast,
        _known AND NOT _fast AND p.long_context_threshold > 0 AND r.long_context = 1 AS _lc,
        multiIf(NOT _known, '', _fast, 'fast', _lc, 'long_context', 'base') AS price_tier,
        -- USD per token, exact at 12 decimals (the book's rates per million have at most 6)
        toDecimal128(multiIf(_fast, p.fast_input_per_mtok, _lc, p.lc_input_per_mtok, p.input_per_mtok), 12) / 1000000 AS _r_in,
        toDecimal128(multiIf(_fast, p.fast_output_per_mtok, _lc, p.lc_output_per_mtok, p.output_per_mtok), 12) / 1000000 AS _r_out,
        toDecimal128(multiIf(_fast, p.fast_cache_read_per_mtok, _lc, p.lc_cache_read_per_mtok, p.cache_read_per_mtok), 12) / 1000000 AS _r_read,
        multiIf(_fast, p.fast_cache_write_5m_per_mtok, _lc, p.lc_cache_write_5m_per_mtok, p.cache_write_5m_per_mtok) AS _f_5m,
        multiIf(_fast, p.fast_cache_write_1h_per_mtok, _lc, p.lc_cache_write_1h_per_mtok, p.cache_write_1h_per_mtok) AS _f_1h,
        toDecimal128(_f_5m, 12) / 1000000 AS _r_5m,
        toDecimal128(_f_1h, 12) / 1000000 AS _r_1h,
        toDecimal128(p.web_search_per_request, 12) AS _ws_rate,
        r.cache_write_1h_known + if({cache_write_ttl:String} = '1h', r.cache_write_unknown, 0) AS billed_cache_write_1h_tokens,
        r.cache_creation_tokens - billed_cache_write_1h_tokens AS billed_cache_write_5m_tokens,
        toUInt8(r.cache_write_unknown > 0) AS cache_write_ttl_assumed,
        toUInt8(ifNull(p.overridden, 0)) AS price_overridden
    FROM (SELECT *, price_day AS _price_day FROM usage) AS r
    -- Each distinct model id is resolved to its book entry once (regexes over a handful of ids, not over every
    -- row): the exact id/alias first, then the pattern with the lowest position that matches. An id nothing
    -- selects has no row: ''.
    ANY LEFT JOIN
    (
        SELECT d.model AS _model_id, argMin(x.model_id, (x.kind != 'exact', x.position)) AS _matched_model
        FROM
        (
            SELECT
                model,
                -- Normalised model id: the same steps as pricing/book.py normalize_model.
                replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(
                    replaceRegexpOne(replaceRegexpOne(lower(trimBoth(model)),
                    '\\[[^\\]]*\\]$', ''),                      -- claude-sonnet-4-5[1m]
                    '^.*/', ''),                                -- anthropic/…, models/…, ARN …/
                    '^([a-z]{2,7}\\.)?anthropic\\.', ''),       -- Bedrock us.anthropic.…
                    '@.*$', ''),                                -- Vertex …@20250929
                    '-v\\d+(:\\d+)?$', ''),                     -- Bedrock …-v1:0, Vertex …-v2
                    '-(\\d{8}|\\d{4}-\\d{2}-\\d{2})$', ''),      -- -20250929, -2025-08-07
                    '-latest$', '') AS _norm_model
            FROM (SELECT DISTINCT model FROM usage)
        ) AS d
        CROSS JOIN model_price_matches AS x
        WHERE (x.kind = 'exact' AND d._norm_model = x.key AND x.model_id != '')
           OR (x.kind = 'pattern' AND multiMatchAny(d._norm_model, [x.key]))
        GROUP BY d.model
    ) AS m ON r.model = m._model_id
    -- the price in force on the row's UTC day: the latest applies_from <= that day
    ASOF LEFT JOIN model_prices AS p
        ON m._matched_model = p.model_id
       AND r._price_day >= p.applies_from
) AS q
