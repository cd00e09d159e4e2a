-- Block buckets: per person and hour, what 5-hour blocks are built from (reports/blocks.py walks them).
-- Appended to `WITH usage AS (...), priced AS (...)` (reports/source.py: priced_sums), whose keys are
-- _k0 the person, _k1 the UTC hour, _k2 whether the row's requests are all exactly on the hour.
--
-- A block's boundaries depend only on when requests were made, to the hour, except for one case: a
-- request stamped exactly on the hour that ends a block (start + 5 h) still belongs to that block, while a
-- later request in the same hour starts the next one (ccusage's rule: a new block when the request is
-- *more than* 5 h after the block's start). So such requests get a bucket of their own. A rollup row that
-- mixes them with later ones (its first request on the hour, its last after) is read again request by
-- request (blocks.py): within a bucket every request falls in the same block.
--
-- Tokens and money are summed here, money as Decimal128(12) handed over as whole 10^-12 dollars (Int64: up to
-- $9.2 million per person and hour) so that summing buckets into blocks is exact; times as milliseconds since
-- the epoch. first_at / last_at are the first and last request's times (a block's start, actual end, burn rate).
-- Columns of `priced` are named with it where an alias below has the same name.
-- models: each model with the time it was first used in the bucket (ccusage lists a block's models in
-- the order they were first used).
-- unknown_models: the models the price book does not know, once per priced row (blocks.py keeps them as a set:
-- groupArrayIf costs a third of groupUniqArrayIf here).
-- No semicolons in this file, comments included (see pricing/sql/priced_usage.sql).
SELECT
    _k0 AS user,
    toUnixTimestamp64Milli(toDateTime64(_k1, 3, 'UTC')) AS hour,
    _k2 AS on_the_hour,
    toUnixTimestamp64Milli(min(priced.first_at)) AS first_at,
    toUnixTimestamp64Milli(max(priced.last_at)) AS last_at,
    sum(priced.requests) AS requests,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    sum(cache_read_tokens) AS cache_read_tokens,
    sum(cache_creation_tokens) AS cache_creation_tokens,
    toInt64(sum(toDecimal128(reported_cost_usd, 12)) * 1000000000000) AS reported_cost_usd,
    toInt64(sum(toDecimal128(computed_cost_usd, 12)) * 1000000000000) AS computed_cost_usd,
    toInt64(sum(toDecimal128(cost_usd, 12)) * 1000000000000) AS cost_usd,
    minMap([model], [toUnixTimestamp64Milli(priced.first_at)]) AS models,
    groupArrayIf(model, priced_model = '') AS unknown_models
FROM priced
GROUP BY _k0, _k1, _k2
HAVING requests != 0
ORDER BY user, first_at
