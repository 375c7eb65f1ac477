-- Why a PENDING run cannot be claimed now, if it waits for another (receptord_waiting).
SELECT why FROM receptord_waiting WHERE id = %(id)s LIMIT 1
