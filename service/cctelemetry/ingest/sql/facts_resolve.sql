-- Fact step 3b: the state each of the batch's other requests (stored before, or from two sources) should be in,
-- written where it differs from what is stored.
--
-- Per request and source the copy that stands is the one with the most tokens (on a tie, the stored one). A
-- request one source delivered is that copy, live. A request two sources delivered (telemetry and a transcript
-- or rollout file) is one 'merged' row, live, with its inputs kept as superseded copies: telemetry (the higher
-- source_priority) gives cost, tokens, model, agent and duration; a copy that knows the 5m/1h cache-write split
-- gives it; project, branch and names come from any copy that has them. A Codex rollout's model wins over
-- telemetry's: it is the model that answered (a model_reroute line), telemetry's is the session's. A request keeps the time it was first
-- counted (the stored live row's; for a new one, its earliest copy's), so its copies share a partition.
-- Rows identical to the stored ones are not written: taking the same copies in again changes nothing.
INSERT INTO ${NEW}
WITH
copies AS
(
    SELECT * EXCEPT (_tokens, _from_batch)
    FROM
    (
        SELECT * EXCEPT (inserted_at), toUInt8(0) AS superseded, toUInt64(0) AS version, now64(6) AS inserted_at,
               input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens AS _tokens, 1 AS _from_batch
        FROM ${BATCH}
        WHERE (agent_product, session_id, request_key) NOT IN (SELECT agent_product, session_id, request_key FROM ${NEW})
        UNION ALL
        SELECT *, input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens AS _tokens, 0 AS _from_batch
        FROM ${STORED}
        WHERE source != 'merged'
    )
    ORDER BY _tokens DESC, _from_batch ASC
    LIMIT 1 BY agent_product, session_id, request_key, source
),
per_request AS
(
    SELECT agent_product, session_id, request_key, uniqExact(source) AS sources, min(timestamp) AS earliest
    FROM copies
    GROUP BY agent_product, session_id, request_key
),
requests AS
(
    SELECT r.agent_product AS agent_product, r.session_id AS session_id, r.request_key AS request_key, r.sources,
           if(l.found = 1, l.timestamp, r.earliest) AS first_counted
    FROM per_request AS r
    LEFT JOIN
    (
        SELECT agent_product, session_id, request_key, any(timestamp) AS timestamp, toUInt8(1) AS found
        FROM ${STORED}
        WHERE superseded = 0
        GROUP BY agent_product, session_id, request_key
    ) AS l ON l.agent_product = r.agent_product AND l.session_id = r.session_id AND l.request_key = r.request_key
),
live_single AS
(
    SELECT c.* REPLACE (r.first_counted AS timestamp, toUInt8(0) AS superseded)
    FROM copies AS c
    INNER JOIN requests AS r USING (agent_product, session_id, request_key)
    WHERE r.sources = 1
),
inputs AS
(
    SELECT c.* REPLACE (r.first_counted AS timestamp, toUInt8(1) AS superseded)
    FROM copies AS c
    INNER JOIN requests AS r USING (agent_product, session_id, request_key)
    WHERE r.sources > 1
),
merged AS
(
    SELECT
        any(timestamp) AS timestamp, agent_product, argMax(service_name, rank) AS service_name, session_id,
        argMax(prompt_id, (prompt_id != '', rank)) AS prompt_id, argMax(request_id, (request_id != '', rank)) AS request_id,
        argMax(message_id, (message_id != '', rank)) AS message_id, request_key,
        argMax(user_id, (user_id != '', rank)) AS user_id, argMax(user_email, (user_email != '', rank)) AS user_email,
        argMax(user_account_uuid, (user_account_uuid != '', rank)) AS user_account_uuid,
        argMax(organization_id, (organization_id != '', rank)) AS organization_id,
        argMax(model, model_rank) AS model, argMax(agent, rank) AS agent, argMax(query_source, rank) AS query_source,
        argMax(speed, rank) AS speed, argMax(effort, (effort != '', rank)) AS effort,
        argMax(skill, (skill != '', rank)) AS skill, argMax(plugin, (plugin != '', rank)) AS plugin,
        argMax(mcp_server, (mcp_server != '', rank)) AS mcp_server, argMax(subagent, (subagent != '', rank)) AS subagent,
        argMax(entrypoint, (entrypoint != '', rank)) AS entrypoint, argMax(terminal, (terminal != '', rank)) AS terminal,
        argMax(project, (project != '', rank)) AS project, argMax(git_branch, (git_branch != '', rank)) AS git_branch,
        argMax(input_tokens, rank) AS input_tokens, argMax(output_tokens, rank) AS output_tokens,
        argMax(reasoning_tokens, rank) AS reasoning_tokens, argMax(cache_read_tokens, rank) AS cache_read_tokens,
        argMax(cache_creation_tokens, rank) AS cache_creation_tokens,
        argMax(cache_creation_5m_tokens, split_rank) AS cache_creation_5m_tokens,
        argMax(cache_creation_1h_tokens, split_rank) AS cache_creation_1h_tokens,
        max(cache_split_known) AS cache_split_known, argMax(web_search_requests, rank) AS web_search_requests,
        argMax(reported_cost_usd, rank) AS reported_cost_usd, argMax(duration_ms, rank) AS duration_ms,
        'merged' AS source, toUInt8(3) AS source_priority, argMax(resource_attributes, rank) AS resource_attributes,
        toUInt8(0) AS superseded, toUInt64(0) AS version, now64(6) AS inserted_at
    FROM
    (
        SELECT *, (source_priority, input_tokens + output_tokens + cache_read_tokens + cache_creation_tokens) AS rank,
               (cache_split_known, source_priority, input_tokens + output_tokens + cache_read_tokens
                + cache_creation_tokens) AS split_rank,
               (if(agent_product = 'codex', 3 - source_priority, source_priority), input_tokens + output_tokens
                + cache_read_tokens + cache_creation_tokens) AS model_rank
        FROM inputs
    )
    GROUP BY agent_product, session_id, request_key
),
wanted AS
(
    SELECT *, ${CONTENT_HASH} AS content_hash
    FROM
    (
        SELECT * FROM live_single
        UNION ALL SELECT * FROM inputs
        UNION ALL SELECT * FROM merged
    )
)
SELECT w.* EXCEPT (content_hash) REPLACE ({version:UInt64} AS version)
FROM wanted AS w
LEFT ANTI JOIN
(
    SELECT agent_product, session_id, request_key, source, ${CONTENT_HASH} AS content_hash FROM ${STORED}
) AS s
    ON s.agent_product = w.agent_product AND s.session_id = w.session_id AND s.request_key = w.request_key
   AND s.source = w.source AND s.content_hash = w.content_hash
SETTINGS join_use_nulls = 0
