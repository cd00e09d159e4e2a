-- What step 2 reads on the embedded engine: the batch's lines with their file, which is the last marker line
-- (code 8) before each, found by an ASOF join on the line number (the join needs an equal column too: k). A
-- fragment: no semicolon.
(
    SELECT m.file_idx AS file_idx, r.rn AS rn, r.code AS code, r.line AS line
    FROM (SELECT rn, code, line, toUInt8(0) AS k FROM ${RAW} WHERE code != 8) AS r
    ASOF INNER JOIN (SELECT file_idx, rn AS start, toUInt8(0) AS k FROM ${RAW} WHERE code = 8) AS m
        ON r.k = m.k AND r.rn >= m.start
)
