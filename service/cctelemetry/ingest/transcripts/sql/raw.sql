-- Transcript import, step 1: the lines of one batch of files -> ${RAW}.
-- ${SOURCE} yields (file_idx, line): on the embedded engine ClickHouse reads the files itself, with
-- file('<batch dir>/*.jsonl', LineAsString), each entry named <file index>.jsonl (a symlink to a whole
-- transcript, or a copy of the new bytes of one that grew); on a ClickHouse server, from an upload table.
--
-- code: 4 = a line the agent's parsing step needs (${MARKER}: for Claude Code, it mentions the key "usage"),
-- 2 = starts with {, 1 = ends with }. Plain arithmetic, so every part is
-- computed for every line in one pass. Code 3 (a JSON object without usage: a prompt, a tool result, ...) is
-- only counted, so its text is not kept. The key "usage" cannot occur inside a JSON string (quotes there
-- are escaped), so every line that can carry a request has code >= 4; ccusage reads only such lines too.
INSERT INTO ${RAW}
SELECT file_idx, code, if(code = 3, '', line) AS line
FROM
(
    SELECT
        file_idx,
        line,
        toUInt8((${MARKER}) * 4 + startsWith(line, '{') * 2 + endsWith(line, '}')) AS code
    FROM ${SOURCE}
)
-- blocks of a few MB, so that step 2 reads them with every thread (${ORDERED}: one thread, keeping each file's
-- lines in order, for agents whose lines depend on the earlier ones)
SETTINGS min_insert_block_size_rows = 65536, min_insert_block_size_bytes = 8388608${ORDERED}
