-- The rollup made again from request_copies (after a migration, or when a fact step did not finish): the live
-- row of every request, +1 each.
INSERT INTO usage_hourly
WITH facts AS (SELECT *, toInt8(1) AS sign FROM request_copies FINAL WHERE superseded = 0)
${USAGE_ROWS};

INSERT INTO request_resources
SELECT DISTINCT cityHash64(resource_attributes) AS resource_id, resource_attributes
FROM request_copies
WHERE superseded = 0
