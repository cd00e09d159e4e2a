-- The staged bodies Python must map instead (ingest/raw_logs.py): any of their maps or bodies is one the policy
-- changes or SQL does not render exactly (raw_logs_unusual_map.sql, raw_logs_unusual_value.sql).
SELECT cct_body
FROM ${STAGE}
WHERE arrayExists(rl -> ${UNUSUAL_RESOURCE}
                        OR arrayExists(sl -> ${UNUSUAL_SCOPE}
                                             OR arrayExists(lr -> ${UNUSUAL_RECORD}, tupleElement(sl, 'log_records')),
                                       tupleElement(rl, 'scope_logs')),
                  resource_logs)
