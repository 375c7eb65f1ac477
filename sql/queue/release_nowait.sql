-- Before the daemon hands back, at the end of its drain, runs its runners could not end:
-- fail at once rather than wait on a run whose runner is committing (it holds the row lock).
SET LOCAL lock_timeout = '1s'
