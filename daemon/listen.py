"""The LISTEN side: a thread that turns NOTIFY into wake-ups for the daemon loop.

NOTIFY is only a hint. Notifications sent while disconnected are lost, so after every
(re)connect the listener posts a wake-up and the loop polls; the loop also polls on a timer.
"""

from __future__ import annotations

import json
import threading

from daemon import log
from daemon.db import connect
from daemon.inbox import Event, Inbox, StatusChanged, Wake

RUNS_CHANNEL = "receptord_runs"  # payload: the kind of a run that became PENDING
STATUS_CHANNEL = "receptord_run_status"  # payload: {"kind", "id", "status"}

log_ = log.get("receptord.listen")


class Listener:
    def __init__(self, url: str, inbox: Inbox, *, max_backoff: float = 1.0) -> None:
        self._url = url
        self._inbox = inbox
        self._max_backoff = max_backoff
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._main, name="listen", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=5)

    def _main(self) -> None:
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                with connect(self._url, autocommit=True, application_name="receptord-listen") as conn:
                    conn.execute(f"LISTEN {RUNS_CHANNEL}")
                    conn.execute(f"LISTEN {STATUS_CHANNEL}")
                    self.connected.set()
                    backoff = 0.2
                    log_.info("listening", channels=[RUNS_CHANNEL, STATUS_CHANNEL])
                    self._inbox.post(Wake("listener connected"))  # catch up on what we missed
                    while not self._stopping.is_set():
                        for n in conn.notifies(timeout=1.0):
                            self._inbox.post(self._parse(n.channel, n.payload))
            except Exception as e:  # psycopg.Error above all; whatever it is, listen again
                self.connected.clear()
                log_.warning("listen connection lost; reconnecting", error=str(e), retry_in=backoff)
                self._stopping.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    @staticmethod
    def _parse(channel: str, payload: str) -> Event:
        if channel == STATUS_CHANNEL:
            try:
                data = json.loads(payload)
                return StatusChanged(str(data["id"]), str(data["status"]))
            except (ValueError, KeyError, TypeError):
                pass
        return Wake(f"notify {channel}")
