-- Transcript import, step 1: the lines of one batch -> ${RAW}, each with its line number (rn) in the batch.
-- The source yields (file_idx, rn, line): on the embedded engine, ClickHouse reads the batch file (every file's
-- new bytes after a marker line, the marker || file index; batches.py) in one thread, in order
-- (source_batch_file.sql); on a ClickHouse server, from an upload table that gives each line its file
-- (source_upload.sql).
--
-- code: 8 = a marker line (its file index kept as file_idx); else 4 = a line the agent's parsing step needs
-- (${MARKER}: for Claude Code, it mentions the key "usage"), 2 = starts with {, 1 = ends with }. Plain
-- arithmetic, so every part is computed for every line in one pass. Code 3 (a JSON object without usage: a
-- prompt, a tool result, ...) is only counted (by the markers' line numbers), so it is not kept. The key
-- "usage" cannot occur inside a JSON string (quotes there are escaped), so every line that can carry a
-- request has code >= 4; ccusage reads only such lines too.
INSERT INTO ${RAW} (file_idx, rn, code, line)
SELECT if(code = 8, toUInt32OrZero(substring(line, length({marker:String}) + 1)), file_idx) AS file_idx, rn, code,
       line
FROM
(
    SELECT
        file_idx,
        rn,
        line,
        toUInt8(if(startsWith(line, {marker:String}), 8,
                   (${MARKER}) * 4 + startsWith(line, '{') * 2 + endsWith(line, '}'))) AS code
    FROM ${SOURCE}
)
WHERE code != 3
-- blocks of a few MB, so that step 2 reads them with every thread
SETTINGS min_insert_block_size_rows = 65536, min_insert_block_size_bytes = 8388608
