DROP VIEW receptord_stuck, receptord_live_daemons, receptord_throughput, receptord_failures,
    receptord_running, receptord_queue;
DROP VIEW receptord_runs;
