REVOKE SELECT ON alembic_version FROM receptord_daemon;
