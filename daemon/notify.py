"""The systemd notify protocol (``sd_notify``), in a few lines and with no dependency.

Under ``Type=notify`` systemd hands the service an ``AF_UNIX`` datagram socket in
``$NOTIFY_SOCKET`` and waits for newline-separated ``KEY=value`` assignments on it:

- ``READY=1`` ends the start-up phase (``systemctl start`` returns, dependants start). The
  daemon sends it only once the pool is open and LISTEN is on, so "active" means "will pick
  up work".
- ``STATUS=...`` is free text shown by ``systemctl status``, for humans.
- ``WATCHDOG=1`` proves liveness; without it for ``WatchdogSec`` systemd kills and restarts
  the service. ``watchdog_interval()`` says how often to send it.
- ``STOPPING=1`` marks the start of a graceful stop, ``EXTEND_TIMEOUT_USEC=...`` asks for
  more time while a long drain is still making progress.

Why our own few lines rather than a package: the protocol is one ``sendto`` of a text
datagram, and owning it lets us guarantee the property that matters: the daemon never dies
and never blocks for long because of notification. Every socket error is swallowed (logged
without the message contents); outside systemd every method is a cheap no-op, so callers
never need an ``if``.

A fresh socket per message keeps the class thread-safe and fork-safe (no descriptor is
shared with solver processes). With ``NotifyAccess=main`` systemd ignores messages from any
other process anyway, so only the daemon's main process should notify.
"""

from __future__ import annotations

import logging
import math
import os
import re
import socket

__all__ = ["SystemdNotifier"]

log = logging.getLogger(__name__)

# A send may wait this long when systemd's receive queue is full, then the message is dropped:
# a stuck service manager must not stall the daemon loop that sends watchdog pings.
SEND_TIMEOUT_SECONDS = 1.0

_KEY = re.compile(r"[A-Z_][A-Z0-9_]*\Z")


def _socket_address(address: str | None) -> str | None:
    """Turn a ``$NOTIFY_SOCKET`` value into a Python ``AF_UNIX`` address, or None if unusable.

    ``@name`` is an abstract-namespace socket (Linux spells it with a leading NUL byte);
    anything else must be an absolute path. Other forms (``vsock:``, relative paths) are not
    sent to, as libsystemd does for forms it does not know.
    """
    if not address:
        return None
    if address.startswith("@"):
        return "\0" + address[1:]
    if address.startswith("/"):
        return address
    log.warning("notify socket address not understood, notifications disabled")
    return None


class SystemdNotifier:
    """Sends state changes to systemd; every method is a no-op when not run by systemd.

    ``address`` defaults to ``$NOTIFY_SOCKET``, read once at construction. Methods return
    True when the datagram was handed to the socket, False otherwise (disabled or failed),
    which callers may ignore: notification is best effort by design.
    """

    def __init__(self, address: str | None = None) -> None:
        raw = os.environ.get("NOTIFY_SOCKET") if address is None else address
        self._address = _socket_address(raw)
        self._failed = False  # warn once on the first failure, not on every watchdog tick

    def send(self, **fields: object) -> bool:
        """Send one datagram of ``KEY=value`` lines, e.g. ``send(READY=1, STATUS="idle")``.

        Keys and values are checked even when disabled, so a malformed message is found in
        tests rather than in production: a newline in a value would inject a second
        assignment. Socket errors are never raised: losing systemd must not kill the daemon.
        """
        if not fields:
            raise ValueError("send() needs at least one field")
        lines: list[str] = []
        for key, value in fields.items():
            text = str(int(value)) if isinstance(value, bool) else str(value)  # READY=True -> 1
            if not _KEY.match(key):
                raise ValueError(f"invalid notify field name: {key!r}")
            if "\n" in text or "\0" in text:
                raise ValueError(f"notify field {key} must not contain newline or NUL")
            lines.append(f"{key}={text}")
        if self._address is None:
            return False
        payload = "\n".join(lines).encode("utf-8")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.settimeout(SEND_TIMEOUT_SECONDS)
                sock.sendto(payload, self._address)
        except OSError as exc:
            # Field names and the errno only: STATUS text may quote run data.
            level = logging.DEBUG if self._failed else logging.WARNING
            log.log(
                level,
                "systemd notification failed (fields=%s, error=%s)",
                ",".join(fields),
                type(exc).__name__ if exc.errno is None else os.strerror(exc.errno),
            )
            self._failed = True
            return False
        if self._failed:
            log.info("systemd notification works again")
            self._failed = False
        return True

    def ready(self) -> bool:
        """Start-up is complete: the pool is open and LISTEN is on."""
        return self.send(READY=1)

    def status(self, text: str) -> bool:
        """One line of free text for ``systemctl status``; line breaks become spaces."""
        return self.send(STATUS=" ".join(text.replace("\0", " ").splitlines()))

    def watchdog(self) -> bool:
        """Keep-alive ping; send every ``watchdog_interval()`` seconds while making progress."""
        return self.send(WATCHDOG=1)

    def stopping(self) -> bool:
        """A graceful stop (drain) has begun."""
        return self.send(STOPPING=1)

    def extend_timeout(self, seconds: float) -> bool:
        """Ask systemd to wait ``seconds`` more in the current start or stop phase.

        The drain sends it every few seconds with the time left to its own give-up point plus
        a margin, so ``TimeoutStopSec`` cannot kill the daemon before the drain has handed its
        runs back; it never asks for more than that.
        """
        if not math.isfinite(seconds) or seconds <= 0:
            raise ValueError(f"extend_timeout needs a positive finite number, got {seconds!r}")
        return self.send(EXTEND_TIMEOUT_USEC=math.ceil(seconds * 1_000_000))

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings (half of ``$WATCHDOG_USEC``), or None if no watchdog.

        Half the timeout is what systemd recommends: one late ping is then not fatal.
        ``$WATCHDOG_PID``, when set, names the process the watchdog is meant for; any other
        process (a child that inherited the environment) must not ping, so gets None. Read
        at call time, since systemd sets these variables only for the main process.
        """
        pid = os.environ.get("WATCHDOG_PID")
        if pid is not None:
            try:
                if int(pid) != os.getpid():
                    return None
            except ValueError:
                return None
        try:
            usec = int(os.environ.get("WATCHDOG_USEC", ""))
        except ValueError:
            return None
        if usec <= 0:
            return None
        return usec / 2_000_000
