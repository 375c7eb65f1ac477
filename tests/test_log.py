"""JSON logs: one JSON object a line, warnings included; tracebacks are structured, and never
carry frame locals (run data, secrets)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECRET = "hunter2-s3cr3t-Dr-Jane-Citizen"

# Runs in a child process: logging configuration is process-wide, and the test reads the real
# stderr the daemon would write to. The secret lives only in frame locals, never in a message.
SCRIPT = f"""
import logging
import warnings
from daemon import log

log.configure("json", "info")


def connect(url):
    raise ConnectionError("could not reach the database")


def load_run():
    password = {SECRET!r}
    connect("postgresql://receptord:" + password + "@db/receptor")


try:
    load_run()
except ConnectionError:
    log.get("receptord.test").exception("structlog logger")
    logging.getLogger("psycopg.test").exception("stdlib logger")
warnings.warn("overflow encountered in power", RuntimeWarning, stacklevel=1)
"""


def logged_lines() -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    lines = []
    for line in proc.stderr.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"a line of the JSON log is not JSON: {line!r}") from None
    return lines


@pytest.fixture(scope="module")
def lines() -> list[dict[str, Any]]:
    return logged_lines()


def test_every_line_is_json(lines: list[dict[str, Any]]) -> None:
    assert [(e["level"], e["logger"]) for e in lines] == [
        ("error", "receptord.test"),
        ("error", "psycopg.test"),
        ("warning", "py.warnings"),  # not printed raw by the warnings module
    ]
    assert "RuntimeWarning: overflow encountered in power" in lines[2]["event"]


def test_both_loggers_log_the_exception_as_json(lines: list[dict[str, Any]]) -> None:
    assert [e["event"] for e in lines[:2]] == ["structlog logger", "stdlib logger"]
    for event in lines[:2]:
        (exc,) = event["exception"]
        assert (exc["exc_type"], exc["exc_value"]) == ("ConnectionError", "could not reach the database")
        assert [f["name"] for f in exc["frames"]] == ["<module>", "load_run", "connect"]


@pytest.mark.parametrize("index", [0, 1], ids=["structlog", "stdlib"])
def test_no_frame_locals_and_no_secret(lines: list[dict[str, Any]], index: int) -> None:
    event = lines[index]
    assert SECRET not in json.dumps(event)
    assert "hunter2" not in json.dumps(event)
    for frame in event["exception"][0]["frames"]:
        assert "locals" not in frame, frame
