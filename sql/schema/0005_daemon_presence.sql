-- Daemons prune presence rows silent for a week (sql/queue/prune_daemons.sql): every restart
-- announces a new host:pid name, and the rows would otherwise pile up forever.
GRANT DELETE ON receptord_daemons TO receptord_daemon;
