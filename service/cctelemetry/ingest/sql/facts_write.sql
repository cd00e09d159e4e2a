-- Fact step 4: the changed rows into request_copies (this step's version outranks what they replace).
INSERT INTO request_copies
SELECT * FROM ${NEW}
SETTINGS optimize_on_insert = 0, max_partitions_per_insert_block = 0
