-- Fact step 6: resource attribute maps not seen before, for the attr.<key> dimensions.
INSERT INTO request_resources
SELECT DISTINCT cityHash64(resource_attributes) AS resource_id, resource_attributes
FROM ${NEW}
WHERE superseded = 0
  AND cityHash64(resource_attributes) NOT IN (SELECT resource_id FROM request_resources)
