-- Names of qualification tags an explanation names (`receptord explain`, exported workbooks).
SELECT id, name FROM qualification_tags WHERE id = ANY (%(tags)s::uuid[])
