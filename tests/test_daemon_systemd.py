"""The daemon speaks the systemd notify protocol: READY once it can take work, STATUS with the
queue, WATCHDOG from the loop itself, STOPPING and more time while draining."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from tests.daemons import DaemonProcess


def test_daemon_notifies_ready_status_watchdog_and_stopping(db_url: str, tmp_path: Path) -> None:
    address = tmp_path / "notify.sock"
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    systemd.bind(str(address))
    systemd.settimeout(30)
    d = DaemonProcess(db_url, log_dir=tmp_path, env={"NOTIFY_SOCKET": str(address), "WATCHDOG_USEC": "1000000"})
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(m == "WATCHDOG=1" for m in messages) < 3:
            messages.append(systemd.recv(4096).decode())
        d.signal(signal.SIGTERM)
        while "STOPPING=1" not in messages:
            messages.append(systemd.recv(4096).decode())
        assert d.wait_exit(30) == 0
    finally:
        d.stop()
        systemd.close()
    assert messages[0] == "READY=1", messages
    statuses = [m for m in messages if m.startswith("STATUS=")]
    assert statuses and statuses[0].startswith("STATUS=running: solving 0/2, 0 queued"), statuses
    assert sum(m == "WATCHDOG=1" for m in messages) >= 3
    assert "STOPPING=1" in messages
