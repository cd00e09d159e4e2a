-- Block buckets: per person and hour, what 5-hour blocks are built from (reports/blocks.py walks them).
-- Appended to `WITH req AS (...), priced AS (...)` (reports/query.py).
--
-- A block's boundaries depend only on when requests were made, to the hour, except for one case: a
-- request stamped exactly on the hour that ends a block (start + 5 h) still belongs to that block, while a
-- later request in the same hour starts the next one (ccusage's rule: a new block when the request is
-- *more than* 5 h after the block's start). So each hour is split in two buckets, the requests exactly on
-- the hour and the rest: within a bucket every request falls in the same block.
--
-- Tokens and money are summed here, money as Decimal128(12) so that summing buckets into blocks is exact;
-- first_at / last_at are exact request times (a block's start, actual end and burn rate need them).
-- models: each model with the time it was first used in the bucket (ccusage lists a block's models in
-- the order they were first used).
--
-- Filled in by the report: USER is the `user` dimension's expression, WHERE the report's filters (reports/query.py).
-- No semicolons in this file, comments included (see pricing/sql/priced_requests.sql).
SELECT
    ${USER} AS user,
    toStartOfHour(timestamp) AS hour,
    toUInt8(timestamp = hour) AS on_the_hour,
    min(timestamp) AS first_at,
    max(timestamp) AS last_at,
    count() AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    sum(toDecimal128(reported_cost_usd, 12)) AS reported_cost_usd,
    sum(toDecimal128(computed_cost_usd, 12)) AS computed_cost_usd,
    sum(toDecimal128(cost_usd, 12)) AS cost_usd,
    minMap([model], [timestamp]) AS models,
    groupUniqArrayIf(model, priced_model = '') AS unknown_models
FROM priced
${WHERE}
GROUP BY user, hour, on_the_hour
ORDER BY user, first_at
