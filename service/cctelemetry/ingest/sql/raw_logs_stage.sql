-- OTLP log export requests as ClickHouse reads them (proto/otlp_logs.proto), one row per body, before they
-- are flattened into otel_logs (raw_logs_flatten.sql). Emptied after every flush (ingest/raw_logs.py).
CREATE TABLE IF NOT EXISTS ${STAGE}
(
    `resource_logs` Array(Tuple(
        resource Tuple(attributes ${KEY_VALUES}),
        scope_logs Array(Tuple(
            scope Tuple(name String, version String, attributes ${KEY_VALUES}),
            log_records Array(Tuple(
                time_unix_nano UInt64, severity_number Int32, severity_text String, body ${ANY_VALUE},
                attributes ${KEY_VALUES}, flags UInt32, trace_id String, span_id String,
                observed_time_unix_nano UInt64, event_name String)),
            schema_url String)),
        schema_url String)),
    `cct_body` UInt64
)
ENGINE = Memory
