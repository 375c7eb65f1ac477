SELECT kind, status, claimed_by, last_error, result_metadata FROM receptord_runs WHERE id = %(id)s
