REVOKE DELETE ON receptord_daemons FROM receptord_daemon;
