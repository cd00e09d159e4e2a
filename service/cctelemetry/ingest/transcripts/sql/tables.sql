-- Transcript import: the working tables of one run (Memory engine; dropped when the run ends).
-- ${UPLOAD}: a batch's lines as sent to a ClickHouse server (which cannot read this machine's files);
-- ${RAW}: the current batch's lines that step 2 reads, and its marker lines (code 8: where each file starts);
-- ${LINES}: every line worth parsing, parsed; ${FILES}: the run's files; ${CAND}: one row per distinct request;
-- ${PLAN}: the candidates against what the store already has. The ones that hold the whole run (lines,
-- candidates, plan) are compressed: uncompressed, 721k parsed lines took 440 MB, most of the import's peak RSS.
-- The lines table has a few more columns for Codex and Gemini (batches.py _LINES_EXTRA), none for Claude Code.
CREATE TABLE ${UPLOAD}
(
    file_idx UInt32,
    line String
)
ENGINE = Memory;

CREATE TABLE ${RAW}
(
    file_idx UInt32,
    rn UInt64,
    code UInt8,
    line String
)
ENGINE = Memory;

CREATE TABLE ${LINES}
(
    file_idx UInt32,
    line_no UInt64,
    kind LowCardinality(String),
    timestamp DateTime64(3, 'UTC'),
    session_id String,
    request_id String,
    message_id String,
    uuid String,
    model LowCardinality(String),
    attribution_agent LowCardinality(String),
    is_sidechain Bool,
    speed LowCardinality(String),
    cwd String,
    git_branch String,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_read_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_creation_5m_tokens UInt64,
    cache_creation_1h_tokens UInt64,
    cache_split_known UInt8,
    web_search_requests UInt32,
    reported_cost_usd Nullable(Float64)${LINES_EXTRA}
)
ENGINE = Memory
SETTINGS compress = 1;

CREATE TABLE ${FILES}
(
    file_idx UInt32,
    project_dir String,
    file_session String
)
ENGINE = Memory;

CREATE TABLE ${CAND}
(
    request_key String,
    timestamp DateTime64(3, 'UTC'),
    session_id String,
    request_id String,
    message_id String,
    model LowCardinality(String),
    agent LowCardinality(String),
    speed LowCardinality(String),
    project String,
    git_branch String,
    input_tokens UInt64,
    output_tokens UInt64,
    cache_read_tokens UInt64,
    cache_creation_tokens UInt64,
    cache_creation_5m_tokens UInt64,
    cache_creation_1h_tokens UInt64,
    cache_split_known UInt8,
    web_search_requests UInt32,
    reported_cost_usd Nullable(Float64),
    total_tokens UInt64,
    reasoning_tokens UInt64
)
ENGINE = Memory
SETTINGS compress = 1;

-- The candidates' columns, plus what planning decides per request.
CREATE TABLE ${PLAN} AS ${CAND};

ALTER TABLE ${PLAN}
    ADD COLUMN known UInt8,
    ADD COLUMN stored_tokens Int64,
    ADD COLUMN replay_of String,
    ADD COLUMN write UInt8;
