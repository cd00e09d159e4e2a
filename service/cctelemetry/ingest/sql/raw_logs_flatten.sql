-- The staged bodies (raw_logs_stage.sql) -> otel_logs rows, column for column what mapping.logs_to_rows makes
-- (and the collector's exporter writes): the record's time, else its observed time; ids in lower-case hex,
-- empty when all zero; attribute maps with sorted keys. Bodies in {python:Array(UInt64)} are mapped by Python.
INSERT INTO otel_logs (Timestamp, TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber, ServiceName, Body,
                       ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion,
                       ScopeAttributes, LogAttributes, EventName)
SELECT
    fromUnixTimestamp64Nano(toInt64(if(tupleElement(lr, 'time_unix_nano') != 0, tupleElement(lr, 'time_unix_nano'),
                                       tupleElement(lr, 'observed_time_unix_nano'))), 'UTC'),
    if(replaceAll(tupleElement(lr, 'trace_id'), '\0', '') = '', '', lower(hex(tupleElement(lr, 'trace_id')))),
    if(replaceAll(tupleElement(lr, 'span_id'), '\0', '') = '', '', lower(hex(tupleElement(lr, 'span_id')))),
    bitAnd(tupleElement(lr, 'flags'), 255),
    tupleElement(lr, 'severity_text'),
    bitAnd(toInt64(tupleElement(lr, 'severity_number')), 255),
    resource_attributes['service.name'],
    ${BODY},
    tupleElement(rl, 'schema_url'),
    ${RESOURCE_ATTRIBUTES} AS resource_attributes,
    tupleElement(sl, 'schema_url'),
    tupleElement(tupleElement(sl, 'scope'), 'name'),
    tupleElement(tupleElement(sl, 'scope'), 'version'),
    ${SCOPE_ATTRIBUTES},
    ${LOG_ATTRIBUTES},
    tupleElement(lr, 'event_name')
FROM ${STAGE}
ARRAY JOIN resource_logs AS rl
ARRAY JOIN tupleElement(rl, 'scope_logs') AS sl
ARRAY JOIN tupleElement(sl, 'log_records') AS lr
WHERE NOT has({python:Array(UInt64)}, cct_body)
