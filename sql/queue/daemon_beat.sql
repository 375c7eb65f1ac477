-- A daemon announces itself and stays visible in receptord_live_daemons.
INSERT INTO receptord_daemons AS d (name, host, pid, version, slots, in_flight, state)
VALUES (%(daemon)s, %(host)s, %(pid)s, %(version)s, %(slots)s, %(in_flight)s, %(state)s)
ON CONFLICT (name) DO UPDATE
   SET in_flight = excluded.in_flight, state = excluded.state, slots = excluded.slots,
       heartbeat_at = now(),
       stopped_at = CASE WHEN excluded.state = 'stopped' THEN now() END
