-- Forget daemons silent for a week: every restart is a new host:pid name, and their rows
-- would otherwise pile up forever. Recent history stays for the DBA views.
DELETE FROM receptord_daemons WHERE heartbeat_at < now() - interval '7 days'
