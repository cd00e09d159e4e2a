-- The transcript importer's memory: per transcript file, how far it has been imported. A re-run reads only
-- the bytes after imported_to (the end of the last complete line); a file that shrank, or changed without
-- growing, or whose first bytes changed (head_hash), is read again from 0, which the importer's
-- de-duplication makes safe. One row per import of a file; the newest wins (FINAL, or argMax on imported_at).
CREATE TABLE IF NOT EXISTS transcript_files
(
    `path` String,
    `size` UInt64,
    `mtime_ns` Int64,
    `imported_to` UInt64,
    `head_hash` String,
    `lines` UInt64,
    `request_lines` UInt64,
    `imported_at` DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(imported_at)
ORDER BY path;
