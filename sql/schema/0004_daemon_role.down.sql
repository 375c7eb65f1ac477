-- Revoke what 0004 granted in this database. The role itself is cluster-wide and may serve
-- other databases, so it is left in place; drop it by hand once no database uses it.
DROP OWNED BY receptord_daemon;
