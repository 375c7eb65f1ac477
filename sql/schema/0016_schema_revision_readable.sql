-- `receptord run` logs in as a member of receptord_daemon and checks the schema revision before
-- it claims a run: a daemon on an older or newer schema would fail on every run instead.
GRANT SELECT ON alembic_version TO receptord_daemon;
