-- Step 1's source on a ClickHouse server: the batch's lines as uploaded, each with its file. A fragment.
(SELECT file_idx, rowNumberInAllBlocks() AS rn, line FROM ${UPLOAD})
