-- Reconcile, step 1: every priced request of the report (the CTE `priced`, one row per request, filtered
-- already) with why its computed cost differs from the reported one, in Float64 (the recovery of the 1h
-- share divides by rates). No semicolons (see pricing/sql/priced_usage.sql).
, checked AS (
    SELECT
        * REPLACE (toFloat64(computed_cost_usd) AS computed_cost_usd, toFloat64(reported_cost_usd) AS reported_cost_usd),
        computed_cost_usd - reported_cost_usd AS difference_usd,
        -- the 1h share that makes the computed cost equal the reported one (the cost is linear in it)
        if(cache_write_ttl_assumed = 1 AND price_tier = 'base'
               AND rate_cache_write_1h_per_mtok > rate_cache_write_5m_per_mtok,
           billed_cache_write_1h_tokens + (reported_cost_usd - computed_cost_usd) * 1000000
               / (rate_cache_write_1h_per_mtok - rate_cache_write_5m_per_mtok),
           NULL) AS _h,
        multiIf(
            priced_model = '', 'unknown_model',
            reported_cost_usd IS NULL, 'no_reported_cost',
            abs(difference_usd) <= {tolerance:Float64}, '',
            price_tier = 'long_context' AND reported_cost_usd < computed_cost_usd, 'long_context_undercount',
            _h IS NOT NULL AND _h > -0.05 AND _h < cache_creation_tokens + 0.05 AND abs(_h - round(_h)) < 0.05,
                'cache_write_1h_recovered',
            speed = 'fast' AND price_tier != 'fast', 'fast_mode_not_priced',
            price_overridden = 1, 'price_overridden',
            'unexplained') AS reason,
        if(reason = 'cache_write_1h_recovered', toUInt64(greatest(round(_h), 0)), NULL)
            AS recovered_cache_write_1h_tokens
    FROM priced
)
