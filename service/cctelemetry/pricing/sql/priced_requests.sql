-- Priced requests: every column of the preceding CTE `req` (the fact-table columns, see
-- reports/sql/requests.sql) plus what each request costs by the price book (tables model_prices and
-- model_price_matches, filled by pricing/sync.py). Computed at report time, so a corrected price
-- fixes history. Use it as `WITH req AS (...), priced AS (<this file>) SELECT ... FROM priced`.
--
-- Parameters:
--   {cache_write_ttl:String}  '5m' | '1h': the TTL assumed for cache writes whose 5m/1h split is not
--                             known (cache_split_known = 0, e.g. OTel events). Claude Code assumes 5m.
--   {cost_mode:String}        'auto' (reported when the source has one, else computed, and a reported 0 for
--                             a request that costs something counts as missing) | 'calculate' | 'display'.
--
-- Columns added:
--   priced_model                 the book entry used ('' when the model is unknown)
--   price_tier                   base | long_context | fast ('' when unknown)
--   computed_cost_usd            Nullable: NULL for an unknown model, never 0
--   cost_{input,output,cache_read,cache_write_5m,cache_write_1h,web_search}_usd   its parts
--   billed_cache_write_{5m,1h}_tokens   how the cache writes were split for pricing
--   cache_write_ttl_assumed      1 when the split was not known and {cache_write_ttl} was assumed
--   rate_{input,output,cache_read,cache_write_5m,cache_write_1h}_per_mtok   the rates used (the 1h share
--                                recovered from a reported cost, what-ifs in reports/insights.py)
--   price_overridden             1 when the price came from the user's prices file
--   cost_usd, cost_source        the cost by {cost_mode}, and which one it is ('reported' | 'computed' | '')
--
-- Rules (docs/pricing.md): cost = tokens x rate / 1e6 per token type, + web searches x the per-request
-- price. A known split prices min(1h, total writes) at the 1h rate and the rest at the 5m rate, as
-- Claude Code does. The long-context tier reprices the whole request when input + cache read + cache
-- write exceeds the model's threshold. Fast mode (speed = 'fast') uses the book's fast rates.
--
-- No semicolons in this file, comments included: clickhouse-connect re-lexes a query that has one (~2 ms).
SELECT
    q.* EXCEPT (_price_day, _matched_model, _known, _fast, _lc, _r_in, _r_out, _r_read, _r_5m, _r_1h, _ws_rate),
    if(_known, _matched_model, '') AS priced_model,
    if(_known, q.input_tokens * _r_in / 1000000, NULL) AS cost_input_usd,
    if(_known, q.output_tokens * _r_out / 1000000, NULL) AS cost_output_usd,
    if(_known, q.cache_read_tokens * _r_read / 1000000, NULL) AS cost_cache_read_usd,
    if(_known, billed_cache_write_5m_tokens * _r_5m / 1000000, NULL) AS cost_cache_write_5m_usd,
    if(_known, billed_cache_write_1h_tokens * _r_1h / 1000000, NULL) AS cost_cache_write_1h_usd,
    if(_known, q.web_search_requests * _ws_rate, NULL) AS cost_web_search_usd,
    cost_input_usd + cost_output_usd + cost_cache_read_usd + cost_cache_write_5m_usd + cost_cache_write_1h_usd
        + cost_web_search_usd AS computed_cost_usd,
    if(_known, _r_in, NULL) AS rate_input_per_mtok,
    if(_known, _r_out, NULL) AS rate_output_per_mtok,
    if(_known, _r_read, NULL) AS rate_cache_read_per_mtok,
    if(_known, _r_5m, NULL) AS rate_cache_write_5m_per_mtok,
    if(_known, _r_1h, NULL) AS rate_cache_write_1h_per_mtok,
    multiIf(
        {cost_mode:String} = 'calculate', if(computed_cost_usd IS NULL, '', 'computed'),
        {cost_mode:String} = 'display', if(q.reported_cost_usd IS NULL, '', 'reported'),
        q.reported_cost_usd IS NOT NULL AND NOT (q.reported_cost_usd = 0 AND ifNull(computed_cost_usd, 0) > 0), 'reported',
        computed_cost_usd IS NOT NULL, 'computed',
        '') AS cost_source,
    multiIf(cost_source = 'reported', q.reported_cost_usd, cost_source = 'computed', computed_cost_usd, NULL) AS cost_usd
FROM
(
    SELECT
        r.*,
        m._matched_model AS _matched_model,
        ifNull(p.present, 0) = 1 AS _known,
        _known AND r.speed = 'fast' AND p.has_fast = 1 AS _fast,
        _known AND NOT _fast AND p.long_context_threshold > 0
            AND r.input_tokens + r.cache_read_tokens + r.cache_creation_tokens > p.long_context_threshold AS _lc,
        multiIf(NOT _known, '', _fast, 'fast', _lc, 'long_context', 'base') AS price_tier,
        multiIf(_fast, p.fast_input_per_mtok, _lc, p.lc_input_per_mtok, p.input_per_mtok) AS _r_in,
        multiIf(_fast, p.fast_output_per_mtok, _lc, p.lc_output_per_mtok, p.output_per_mtok) AS _r_out,
        multiIf(_fast, p.fast_cache_read_per_mtok, _lc, p.lc_cache_read_per_mtok, p.cache_read_per_mtok) AS _r_read,
        multiIf(_fast, p.fast_cache_write_5m_per_mtok, _lc, p.lc_cache_write_5m_per_mtok, p.cache_write_5m_per_mtok) AS _r_5m,
        multiIf(_fast, p.fast_cache_write_1h_per_mtok, _lc, p.lc_cache_write_1h_per_mtok, p.cache_write_1h_per_mtok) AS _r_1h,
        p.web_search_per_request AS _ws_rate,
        multiIf(r.cache_split_known = 1, least(r.cache_creation_1h_tokens, r.cache_creation_tokens),
                {cache_write_ttl:String} = '1h', r.cache_creation_tokens,
                toUInt64(0)) AS billed_cache_write_1h_tokens,
        r.cache_creation_tokens - billed_cache_write_1h_tokens AS billed_cache_write_5m_tokens,
        toUInt8(r.cache_split_known = 0 AND r.cache_creation_tokens > 0) AS cache_write_ttl_assumed,
        toUInt8(ifNull(p.overridden, 0)) AS price_overridden
    FROM (SELECT *, toDate(timestamp, 'UTC') AS _price_day FROM req) AS r
    -- Each distinct model id is resolved to its book entry once (regexes over a handful of ids, not
    -- over every request): the exact id/alias first, then the pattern with the lowest position that
    -- matches. One pass over (id x match row) pairs: a scalar subquery of the patterns plus a join for
    -- the exact ids took ~5 ms longer to plan, in every report. An id nothing selects has no row: ''.
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
            FROM (SELECT DISTINCT model FROM api_requests)
        ) AS d
        CROSS JOIN model_price_matches AS x
        WHERE (x.kind = 'exact' AND d._norm_model = x.key AND x.model_id != '')
           OR (x.kind = 'pattern' AND multiMatchAny(d._norm_model, [x.key]))
        GROUP BY d.model
    ) AS m ON r.model = m._model_id
    -- the price in force on the request's UTC day: the latest applies_from <= that day
    ASOF LEFT JOIN model_prices AS p
        ON m._matched_model = p.model_id
       AND r._price_day >= p.applies_from
) AS q
