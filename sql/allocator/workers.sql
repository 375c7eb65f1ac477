-- The run's worker mappings: all of the allocation run's, or the included subset; in an
-- exclusive round, less the workers already allocated by earlier completed rounds.
SELECT m.id
  FROM allocation_run_worker_mappings m
 WHERE m.allocation_run = %(allocation_run)s
   AND (%(included)s::uuid[] IS NULL OR m.id = ANY (%(included)s::uuid[]))
   AND NOT (%(exclusive)s AND m.id IN (SELECT worker_mapping FROM earlier_round_allocations))
 ORDER BY m.id
