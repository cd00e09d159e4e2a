-- The fact writer's working tables (ingest/facts.py), emptied at every step: ${BATCH}, the inbox's new copies,
-- one per request and source; ${STORED}, what request_copies holds for those requests; ${NEW}, the rows that
-- change (each written with this step's version).
CREATE TABLE IF NOT EXISTS ${BATCH} AS api_request_inbox ENGINE = Memory;
CREATE TABLE IF NOT EXISTS ${STORED} AS request_copies ENGINE = Memory;
CREATE TABLE IF NOT EXISTS ${NEW} AS request_copies ENGINE = Memory
