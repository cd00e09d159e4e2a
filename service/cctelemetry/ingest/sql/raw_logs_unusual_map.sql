-- A repeated KeyValue ${KVS} the ingest policy (ingest/policy.py) would change, or that SQL does not render as
-- Python does: over max_attributes, a key twice, a key or value longer than max_length, a key the policy
-- removes ({drop_keys}: content, and user.email when emails are hashed), text it redacts that is not redacted
-- yet, a tool_parameters it edits, an unusual value.
(({max_attributes:UInt32} > 0 AND length(${KVS}) > {max_attributes:UInt32})
 OR length(arrayDistinct(arrayMap(kv -> tupleElement(kv, 'key'), ${KVS}))) != length(${KVS})
 OR arrayExists(kv -> has({drop_keys:Array(String)}, tupleElement(kv, 'key'))
                      OR (has({redact_keys:Array(String)}, tupleElement(kv, 'key')) AND ${VALUE_OF_KV} != '<REDACTED>')
                      OR ({tool_parameters:UInt8} AND tupleElement(kv, 'key') = 'tool_parameters'
                          AND multiSearchAny(${VALUE_OF_KV}, {tool_parameter_drops:Array(String)}))
                      OR ({max_length:UInt32} > 0 AND (lengthUTF8(tupleElement(kv, 'key')) > {max_length:UInt32}
                                                        OR lengthUTF8(${VALUE_OF_KV}) > {max_length:UInt32}))
                      OR ${UNUSUAL_KV},
                ${KVS}))
