-- A daemon announces itself and stays visible in receptord_live_daemons. A name reused by a
-- new process (a fixed RECEPTORD_DAEMON_NAME across restarts) takes the row over whole.
INSERT INTO receptord_daemons AS d (name, host, pid, version, slots, in_flight, state, started_at)
VALUES (%(daemon)s, %(host)s, %(pid)s, %(version)s, %(slots)s, %(in_flight)s, %(state)s, %(started_at)s)
ON CONFLICT (name) DO UPDATE
   SET host = excluded.host, pid = excluded.pid, version = excluded.version,
       started_at = excluded.started_at, slots = excluded.slots,
       in_flight = excluded.in_flight, state = excluded.state,
       heartbeat_at = now(),
       stopped_at = CASE WHEN excluded.state = 'stopped' THEN now() END
