-- Where each file's lines start in a batch file (its marker line, code 8), in order; the last one ends the batch.
SELECT file_idx, rn FROM ${RAW} WHERE code = 8 ORDER BY rn
