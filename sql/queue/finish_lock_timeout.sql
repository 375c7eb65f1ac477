-- Inside the finishing transaction: wait at most this long for a row lock held by someone
-- else (a client editing the job lines a planner run replaces), then fail with
-- lock_not_available, which the daemon retries with its lease still renewed.
SET LOCAL lock_timeout = '10s'
