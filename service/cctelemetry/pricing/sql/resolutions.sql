-- Model ids -> their price book entry ('' when nothing selects them), into ${TARGET}: the ids of ${MODELS}
-- (a query with a column `model`) that are not resolved yet. The exact id or an alias first, then the pattern
-- with the lowest position that matches (model_price_matches, filled by sync.py), on the normalised id: the
-- same steps as pricing/book.py normalize_model and match (tests/test_report_speed_paths.py checks both agree).
INSERT INTO ${TARGET}
SELECT d.model,
       argMinIf(x.model_id, (x.kind != 'exact', x.position),
                (x.kind = 'exact' AND d.norm = x.key AND x.model_id != '')
                OR (x.kind = 'pattern' AND multiMatchAny(d.norm, [x.key]))) AS priced_model
FROM
(
    SELECT
        model,
        replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(replaceRegexpOne(
            replaceRegexpOne(replaceRegexpOne(lower(trimBoth(model)),
            '\\[[^\\]]*\\]$', ''),                      -- claude-sonnet-4-5[1m]
            '^.*/', ''),                                -- anthropic/…, models/…, ARN …/
            '^([a-z]{2,7}\\.)?anthropic\\.', ''),       -- Bedrock us.anthropic.…
            '@.*$', ''),                                -- Vertex …@20250929
            '-v\\d+(:\\d+)?$', ''),                     -- Bedrock …-v1:0, Vertex …-v2
            '-(\\d{8}|\\d{4}-\\d{2}-\\d{2})$', ''),      -- -20250929, -2025-08-07
            '-latest$', '') AS norm
    FROM (${MODELS})
    WHERE model NOT IN (SELECT model FROM ${TARGET})
) AS d
CROSS JOIN model_price_matches AS x
GROUP BY d.model
-- every id gets a row ('' when nothing matched), so it is not looked at again until the book changes
