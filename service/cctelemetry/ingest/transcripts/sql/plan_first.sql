-- Transcript import, step 4 when request_copies holds no request of this agent yet (the first import into a
-- store): nothing is known or stored, so every request of the run (${CAND}) is new and written. plan.sql would
-- find the same, but its joins first build sets of the run's keys (600k on the dense bench corpus: +150 MB at
-- the import's peak) to look them up in an empty table. Telemetry stored meanwhile is merged by the fact writer
-- as always; only the summary would call such a request new rather than known.
INSERT INTO ${PLAN}
SELECT c.*, toUInt8(0) AS known, toInt64(-1) AS stored_tokens, '' AS replay_of, toUInt8(1) AS write
FROM ${CAND} AS c
