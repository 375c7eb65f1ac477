"""The daemon loop's inbox: events from other threads, and wake-ups from signal handlers.

Why not ``queue.Queue``: a signal handler runs on the main thread between two bytecodes,
possibly while that thread holds the queue's lock inside ``get``; a ``put`` from the handler
would then wait forever on a lock its own thread holds. Here, events go into a ``deque``
(appends and pops are atomic, no lock) and every post pokes a socket pair the loop sleeps on
with ``select``. Signals need no code at all: ``signal.set_wakeup_fd`` makes the interpreter
write to the same socket from C, and the handler only sets a flag the loop reads.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Wake:
    """Pending work may exist, or a slot is free: look again."""

    reason: str


@dataclass(frozen=True)
class StatusChanged:
    run_id: str
    status: str


Event = Wake | StatusChanged


class Inbox:
    def __init__(self) -> None:
        self._events: deque[Event] = deque()
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)

    def post(self, event: Event) -> None:
        """From any thread (not from a signal handler: set a flag there instead)."""
        self._events.append(event)
        self.poke()

    def poke(self) -> None:
        """Wake the loop without an event."""
        with contextlib.suppress(BlockingIOError, OSError):  # full: the loop will wake anyway
            self._writer.send(b"\0")

    def wake_on_signals(self) -> None:
        """Make every signal the main thread receives wake ``wait`` (call on the main thread)."""
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)

    def wait(self, timeout: float) -> list[Event]:
        """Sleep up to ``timeout`` s unless events are queued or a poke/signal arrives; return
        the events queued by then (possibly none)."""
        if not self._events:
            select.select([self._reader], [], [], max(0.0, timeout))
        with contextlib.suppress(BlockingIOError, OSError):
            while self._reader.recv(4096):
                pass
        events = []
        while self._events:
            events.append(self._events.popleft())
        return events

    def close(self) -> None:
        self._reader.close()
        self._writer.close()
