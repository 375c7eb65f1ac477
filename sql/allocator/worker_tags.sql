SELECT worker_mapping, qualification_ids
  FROM get_worker_qualifications(%(allocation_run)s)
 WHERE worker_mapping = ANY (%(workers)s::uuid[]) AND cardinality(qualification_ids) > 0
