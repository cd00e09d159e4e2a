-- What step 2 reads on a ClickHouse server: the uploaded lines, each with its own file. A fragment.
(SELECT file_idx, rn, code, line FROM ${RAW})
