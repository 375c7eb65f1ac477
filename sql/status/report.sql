-- receptord status: one titled section per DBA view (a "section" comment line starts each).
-- section: Queue
SELECT * FROM receptord_queue ORDER BY kind;
-- section: Waiting
SELECT kind, id, waiting_for, why FROM receptord_waiting;
-- section: Running
SELECT kind, id, claimed_by, running_for, heartbeat_age, attempts, progress FROM receptord_running;
-- section: Stuck
SELECT kind, id, status, why FROM receptord_stuck;
-- section: Recent failures
SELECT kind, id, status, completed_at, last_error FROM receptord_failures LIMIT 10;
-- section: Throughput
SELECT * FROM receptord_throughput;
-- section: Live daemons
SELECT name, state, slots, in_flight, started_at, heartbeat_age FROM receptord_live_daemons;
