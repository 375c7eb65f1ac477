-- One queue's depth and the age of its oldest pending run, for the metrics endpoint
-- (the partial index on pending runs makes this cheap).
SELECT count(*), coalesce(extract(epoch FROM now() - min({created})), 0)::float8
FROM {table}
WHERE status = 'PENDING'
