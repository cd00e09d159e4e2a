-- A repeated KeyValue ${KVS} as the exporter stores it: a Map with keys sorted (raw_logs_unusual.sql sends
-- maps with a key twice to Python, which keeps the last).
CAST(mapFromArrays(arrayMap(kv -> tupleElement(kv, 'key'), arraySort(kv -> tupleElement(kv, 'key'), ${KVS})),
                   arrayMap(kv -> ${VALUE_OF_KV}, arraySort(kv -> tupleElement(kv, 'key'), ${KVS}))),
     'Map(LowCardinality(String), String)')
