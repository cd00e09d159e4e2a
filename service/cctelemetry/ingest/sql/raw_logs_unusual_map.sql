-- A repeated KeyValue ${KVS} the ingest policy (ingest/policy.py) would change, or that SQL does not render as
-- Python does: a key twice, a key the policy removes ({drop_keys}: content, and user.email when emails are
-- hashed), text it redacts that is not redacted yet, a tool_parameters it edits, an unusual value. (Maps over
-- max_attributes and values over max_value_length never get here: raw_logs.plain sends those bodies to
-- Python before they are acknowledged.)
(length(arrayDistinct(arrayMap(kv -> tupleElement(kv, 'key'), ${KVS}))) != length(${KVS})
 OR arrayExists(kv -> has({drop_keys:Array(String)}, tupleElement(kv, 'key'))
                      OR (has({redact_keys:Array(String)}, tupleElement(kv, 'key')) AND ${VALUE_OF_KV} != '<REDACTED>')
                      OR ({tool_parameters:UInt8} AND tupleElement(kv, 'key') = 'tool_parameters'
                          AND multiSearchAny(${VALUE_OF_KV}, {tool_parameter_drops:Array(String)}))
                      OR ${UNUSUAL_KV},
                ${KVS}))
