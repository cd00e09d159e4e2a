-- Activity metric points as increments (preceded by `WITH [req AS (...),]`): a delta point is its own
-- increment; a cumulative series (one start time, one set of attributes) rises by the difference to its
-- previous point, the first point counting whole. Points before `since` are read only as the baseline
-- of cumulative series; the caller keeps increments in the window.
activity AS (
    SELECT timestamp, session_id, service_name, agent_product, metric, attributes,
           if(temporality = 2,
              value - lagInFrame(value, 1, 0) OVER (PARTITION BY metric, service_name, session_id, start_time, attributes
                                                      ORDER BY timestamp ROWS BETWEEN 1 PRECEDING AND CURRENT ROW),
              value) AS increment
    FROM agent_metrics
    WHERE ${CONDITIONS}
)
