-- The columns priced_usage.sql adds for the per-request views (its EXPLAIN token): whether a cache write's TTL
-- was assumed, the rates applied per million tokens, and whether the price comes from the user's prices file.
-- Each line ends with a comma: the fragment sits inside the SELECT list.
    toUInt8(u.cache_write_unknown > 0) AS cache_write_ttl_assumed,
    if(p.present = 1, p.input_per_mtok, NULL) AS rate_input_per_mtok,
    if(p.present = 1, p.output_per_mtok, NULL) AS rate_output_per_mtok,
    if(p.present = 1, p.cache_read_per_mtok, NULL) AS rate_cache_read_per_mtok,
    if(p.present = 1, p.cache_write_5m_per_mtok, NULL) AS rate_cache_write_5m_per_mtok,
    if(p.present = 1, p.cache_write_1h_per_mtok, NULL) AS rate_cache_write_1h_per_mtok,
    toUInt8(p.present = 1 AND p.overridden = 1) AS price_overridden,
