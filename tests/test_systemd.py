"""systemd integration: the notify protocol against a real datagram socket, and the unit files.

The notify tests bind the socket systemd would own and read the exact datagrams. The unit
tests check the files statically everywhere, and with ``systemd-analyze`` where it is
installed (CI installs it: ``apt-get install -y systemd``; no running systemd is needed).
Elsewhere they skip without it; under CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from daemon import notify
from daemon.notify import SystemdNotifier
from daemon.settings import Settings, memory_bytes

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD_DIR = ROOT / "systemd"
UNITS = ("receptord.service", "receptord@.service")

# --------------------------------------------------------------------------------------------
# Notify protocol
# --------------------------------------------------------------------------------------------


class Receiver:
    """The service manager's end: a bound AF_UNIX datagram socket."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(5)

    def recv(self) -> bytes:
        return self.sock.recv(65536)

    def assert_empty(self) -> None:
        self.sock.setblocking(False)
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        finally:
            self.sock.settimeout(5)
        pytest.fail(f"unexpected datagram {data!r}")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def sock_path(tmp_path: Path) -> str:
    path = str(tmp_path / "notify")
    assert len(path) < 100, f"tmp_path too long for an AF_UNIX address: {path}"
    return path


@pytest.fixture
def receiver(sock_path: str) -> Iterator[Receiver]:
    r = Receiver(sock_path)
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may themselves run under systemd: never talk to the real notify socket."""
    for var in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(var, raising=False)


def test_exact_datagrams(receiver: Receiver, sock_path: str) -> None:
    n = SystemdNotifier(sock_path)
    cases = [
        (n.ready, b"READY=1"),
        (lambda: n.status("solving allocator run 42"), b"STATUS=solving allocator run 42"),
        (n.watchdog, b"WATCHDOG=1"),
        (n.stopping, b"STOPPING=1"),
        (lambda: n.extend_timeout(1.5), b"EXTEND_TIMEOUT_USEC=1500000"),
        (lambda: n.extend_timeout(0.0000001), b"EXTEND_TIMEOUT_USEC=1"),
        (lambda: n.send(READY=1, STATUS="idle"), b"READY=1\nSTATUS=idle"),
        (lambda: n.send(READY=True, ERRNO=5), b"READY=1\nERRNO=5"),
    ]
    for call, expected in cases:
        assert call() is True
        assert receiver.recv() == expected
    receiver.assert_empty()


def test_status_is_one_line(receiver: Receiver, sock_path: str) -> None:
    """A line break would inject a second assignment (e.g. a forged READY=1)."""
    n = SystemdNotifier(sock_path)
    assert n.status("draining\nREADY=1\r\nok\0x")
    assert receiver.recv() == b"STATUS=draining READY=1 ok x"


def test_address_from_environment(receiver: Receiver, sock_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", sock_path)
    n = SystemdNotifier()
    assert n.ready()
    assert receiver.recv() == b"READY=1"


def test_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"receptord-test-{uuid.uuid4().hex}"
    r = Receiver("\0" + name)
    try:
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        n = SystemdNotifier()
        assert n.watchdog()
        assert r.recv() == b"WATCHDOG=1"
        assert SystemdNotifier("@" + name).status("x")
        assert r.recv() == b"STATUS=x"
    finally:
        r.close()


def _forbid_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a disabled notifier must not open a socket")

    monkeypatch.setattr(socket, "socket", boom)


@pytest.mark.parametrize("value", [None, "", "relative/path", "vsock:2:1234"])
def test_noop_without_notify_socket(value: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is not None:
        monkeypatch.setenv("NOTIFY_SOCKET", value)
    n = SystemdNotifier()
    _forbid_sockets(monkeypatch)
    assert n.ready() is False
    assert n.status("x") is False
    assert n.watchdog() is False
    assert n.stopping() is False
    assert n.extend_timeout(10) is False
    assert n.send(STATUS="x") is False


def test_socket_gone_is_swallowed_and_logged_without_contents(sock_path: str, caplog: pytest.LogCaptureFixture) -> None:
    r = Receiver(sock_path)
    n = SystemdNotifier(sock_path)
    assert n.ready()
    r.close()
    Path(sock_path).unlink()  # systemd went away

    caplog.set_level(logging.DEBUG, logger="daemon.notify")
    secret = "postgresql://u:hunter2@db/x"
    assert n.status(secret) is False
    assert n.watchdog() is False
    assert n.stopping() is False
    assert n.extend_timeout(30) is False
    failures = [rec for rec in caplog.records if "failed" in rec.getMessage()]
    assert [rec.levelno for rec in failures] == [logging.WARNING] + [logging.DEBUG] * 3
    assert "hunter2" not in caplog.text
    assert "STATUS" in failures[0].getMessage()

    # A socket file nobody reads from any more (refused), then systemd back again.
    Path(sock_path).touch()
    assert n.ready() is False
    Path(sock_path).unlink()
    r2 = Receiver(sock_path)
    try:
        assert n.ready() is True
        assert r2.recv() == b"READY=1"
        assert "works again" in caplog.text
    finally:
        r2.close()


def test_full_queue_does_not_block(
    receiver: Receiver, sock_path: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A service manager that stops reading must not stall the daemon loop: once its queue is
    full, a send waits SEND_TIMEOUT_SECONDS at most, then the datagram is dropped."""
    monkeypatch.setattr(notify, "SEND_TIMEOUT_SECONDS", 0.05)
    caplog.set_level(logging.WARNING, logger="daemon.notify")
    n = SystemdNotifier(sock_path)
    for _ in range(100_000):
        if not n.watchdog():
            break
    else:
        pytest.fail("the receive queue never filled up")
    # A blocking send would never have returned; this one gave up when its wait timed out.
    assert [r.getMessage() for r in caplog.records] == [
        "systemd notification failed (fields=WATCHDOG, error=TimeoutError)"
    ]
    assert receiver.recv() == b"WATCHDOG=1"


@pytest.mark.parametrize(
    "fields",
    [{}, {"ready": 1}, {"READY-X": 1}, {"STATUS": "a\nREADY=1"}, {"STATUS": "a\0b"}],
)
def test_malformed_fields_rejected(fields: dict[str, object], sock_path: str) -> None:
    """Checked even when disabled, so tests catch them before production does."""
    for n in (SystemdNotifier(sock_path), SystemdNotifier("")):
        with pytest.raises(ValueError):
            n.send(**fields)


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan"), float("inf")])
def test_extend_timeout_rejects_nonsense(seconds: float) -> None:
    with pytest.raises(ValueError):
        SystemdNotifier("").extend_timeout(seconds)


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        (None, None, None),
        ("30000000", None, 15.0),
        ("30000000", "self", 15.0),
        ("30000000", "other", None),
        ("30000000", "garbage", None),
        ("1", None, 0.0000005),
        ("0", None, None),
        ("-5", None, None),
        ("soon", None, None),
        ("", None, None),
    ],
)
def test_watchdog_interval(
    usec: str | None, pid: str | None, expected: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if usec is not None:
        monkeypatch.setenv("WATCHDOG_USEC", usec)
    if pid is not None:
        value = {"self": str(os.getpid()), "other": str(os.getpid() + 1)}.get(pid, pid)
        monkeypatch.setenv("WATCHDOG_PID", value)
    assert SystemdNotifier("").watchdog_interval() == expected


# --------------------------------------------------------------------------------------------
# Unit files, statically
# --------------------------------------------------------------------------------------------

Unit = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Unit:
    """Sections -> key -> values in order (keys such as SystemCallFilter= may repeat)."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        assert not line.endswith("\\"), f"line continuations not expected: {line!r}"
        if line.startswith("["):
            assert line.endswith("]"), line
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None, f"assignment outside a section: {line!r}"
        key, sep, value = line.partition("=")
        assert sep, f"not an assignment: {line!r}"
        section.setdefault(key.strip(), []).append(value.strip())
    return unit


def load_unit(name: str) -> Unit:
    return parse_unit((SYSTEMD_DIR / name).read_text(encoding="utf-8"))


def env_example() -> dict[str, str]:
    """Every KEY=value of the example file, commented-out defaults included."""
    found: dict[str, str] = {}
    for line in (SYSTEMD_DIR / "receptord.env.example").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if m:
            found.setdefault(m[1], m[2])
    return found


REQUIRED_SERVICE = {
    "Type": "notify",
    "NotifyAccess": "main",
    "ExecStart": "/opt/receptord/.venv/bin/receptord run",
    "Restart": "on-failure",
    "RestartSec": "5",
    "WatchdogSec": "30",
    "TimeoutStartSec": "60",
    "TimeoutStopSec": "90",
    "KillMode": "mixed",
    "OOMPolicy": "continue",
    "MemoryMax": "14G",
    "User": "receptord",
    "Group": "receptord",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "CapabilityBoundingSet": "",
    "UMask": "0077",
}


@pytest.mark.parametrize(
    ("name", "env_file"),
    [
        ("receptord.service", "/etc/receptord/receptord.env"),
        ("receptord@.service", "/etc/receptord/%i.env"),
    ],
)
def test_unit_directives(name: str, env_file: str) -> None:
    unit = load_unit(name)
    service = unit["Service"]
    for key, value in REQUIRED_SERVICE.items():
        assert service.get(key) == [value], f"{name}: {key}={service.get(key)}"
    assert service["EnvironmentFile"] == [env_file]
    assert "ExecStartPre" not in service, "migrations are a deploy step, not a start step"
    for key in ("After", "Wants"):
        assert unit["Unit"][key] == ["network-online.target postgresql.service"]
    assert "Requires" not in unit["Unit"], "the database may be remote: Wants= only"
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


@pytest.mark.parametrize("name", ["receptord.service", "receptord@.service"])
def test_memory_max_leaves_the_daemon_room_beside_its_solvers(name: str) -> None:
    """MemoryMax= caps the whole unit, so the kernel's OOM killer picks within it, not
    PostgreSQL: the default slots' limits plus about 2 GiB for the daemon must fit under it,
    or a run within its own limit would take the daemon down."""
    defaults = Settings()
    slots = memory_bytes(defaults.slot_memory)
    unit = memory_bytes(load_unit(name)["Service"]["MemoryMax"][0])
    assert slots is not None and unit is not None
    assert unit >= defaults.solver_processes * slots + 2 * 2**30


def test_template_is_instance_aware() -> None:
    service = load_unit("receptord@.service")["Service"]
    assert service["SyslogIdentifier"] == ["receptord@%i"]
    assert load_unit("receptord.service")["Service"]["SyslogIdentifier"] == ["receptord"]


def test_template_matches_single_unit() -> None:
    """The hardening must not drift between the two files."""
    single = load_unit("receptord.service")
    template = load_unit("receptord@.service")
    instance_lines = {
        ("Unit", "Description"),
        ("Service", "EnvironmentFile"),
        ("Service", "SyslogIdentifier"),
    }
    for unit in (single, template):
        for section, key in instance_lines:
            del unit[section][key]
    # One metrics port for the single unit; instances on one host need one each (env files).
    metrics = "RECEPTORD_METRICS_ADDRESS=127.0.0.1:9464"
    assert metrics in single["Service"]["Environment"]
    assert not any("METRICS" in e for e in template["Service"]["Environment"])
    single["Service"]["Environment"].remove(metrics)
    assert single == template


def test_stop_timeout_exceeds_drain() -> None:
    env = env_example()
    drain = float(env["RECEPTORD_DRAIN_SECONDS"])
    assert drain == 60, "the unit's comments and README quote a 60 s default"
    for name in UNITS:
        stop = float(load_unit(name)["Service"]["TimeoutStopSec"][0])
        assert stop >= drain + 20, f"{name}: TimeoutStopSec={stop} leaves no time after drain"
        watchdog = float(load_unit(name)["Service"]["WatchdogSec"][0])
        assert watchdog >= 10, "the main loop must be able to ping at half this interval"


def test_env_example_documents_every_setting() -> None:
    env = env_example()
    expected = {
        "DATABASE_URL",
        "RECEPTORD_SOLVER_PROCESSES",
        "RECEPTORD_SOLVER_THREADS",
        "RECEPTORD_LEASE_SECONDS",
        "RECEPTORD_HEARTBEAT_SECONDS",
        "RECEPTORD_POLL_SECONDS",
        "RECEPTORD_DRAIN_SECONDS",
        "RECEPTORD_LOG_FORMAT",
        "RECEPTORD_LOG_LEVEL",
    }
    assert expected <= set(env), expected - set(env)
    assert env["RECEPTORD_LOG_FORMAT"] in {"json", "console"}
    assert float(env["RECEPTORD_LEASE_SECONDS"]) >= 3 * float(env["RECEPTORD_HEARTBEAT_SECONDS"])
    text = (SYSTEMD_DIR / "receptord.env.example").read_text(encoding="utf-8")
    assert "export " not in text, "EnvironmentFile= does not understand `export`"


# --------------------------------------------------------------------------------------------
# Unit files, with systemd-analyze
# --------------------------------------------------------------------------------------------

ANALYZE = shutil.which("systemd-analyze")
# CI sets CI=true. There, a missing tool fails the tests that need it: a skip would go unseen.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail_in_ci(reason: str) -> NoReturn:
    if IN_CI:
        pytest.fail(f"{reason}; CI must provide it (CI={os.environ['CI']!r})", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def analyze() -> str:
    if ANALYZE is None:
        skip_or_fail_in_ci("systemd-analyze not on PATH (CI installs it: apt-get install -y systemd)")
    return ANALYZE


# Lines about unit files outside our temporary directory (the host's own units, loaded as
# dependencies such as multi-user.target) are not ours to judge. Everything else fails.
_FOREIGN_UNIT_LINE = re.compile(
    r"(?P<path>/\S+\.(?:service|socket|target|mount|automount|swap|timer|path|slice|scope))"
    r":\d+: "
)


def _analyze(analyze: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": "", "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [analyze, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _install_units(tmp_path: Path, extra: str = "") -> Path:
    """Copy the units with ExecStart= pointing at a binary that exists (verify checks it)."""
    true = shutil.which("true")
    assert true is not None
    for name in UNITS:
        text = (SYSTEMD_DIR / name).read_text(encoding="utf-8")
        new, count = re.subn(
            r"^ExecStart=/opt/receptord/\.venv/bin/receptord run$",
            f"ExecStart={true} run",
            text,
            flags=re.MULTILINE,
        )
        assert count == 1, f"{name}: expected exactly one ExecStart= line"
        if extra:
            new = new.replace("[Service]\n", f"[Service]\n{extra}\n", 1)
        (tmp_path / name).write_text(new, encoding="utf-8")
    return tmp_path


def verify_problems(analyze: str, unit: Path) -> list[str]:
    """`systemd-analyze verify` output that concerns us: it exits 0 on unknown keys and bad
    values, so every line counts, except lines about the host's other unit files."""
    proc = _analyze(analyze, "verify", str(unit), cwd=unit.parent)
    problems = []
    for line in (proc.stdout + proc.stderr).splitlines():
        m = _FOREIGN_UNIT_LINE.match(line)
        if m and not m["path"].startswith(str(unit.parent)):
            continue
        if line.strip():
            problems.append(line)
    if proc.returncode != 0:
        problems.append(f"exit status {proc.returncode}")
    return problems


@pytest.mark.parametrize("name", ["receptord.service", "receptord@a.service"])
def test_systemd_analyze_verify(analyze: str, name: str, tmp_path: Path) -> None:
    units = _install_units(tmp_path)
    assert verify_problems(analyze, units / name) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("BogusKey=1", "Unknown key"),
        ("Restart=sometimes", "restart"),
        ("ExecStartPost=/nonexistent/receptord-hook", "not executable"),
    ],
)
@pytest.mark.parametrize("name", ["receptord.service", "receptord@a.service"])
def test_systemd_analyze_verify_catches_mistakes(
    analyze: str, name: str, extra: str, expected: str, tmp_path: Path
) -> None:
    """The check above would notice a broken unit (verify itself exits 0 on the first two)."""
    units = _install_units(tmp_path, extra)
    problems = verify_problems(analyze, units / name)
    assert any(expected.lower() in p.lower() for p in problems), problems


def _security_supported(analyze: str) -> bool:
    proc = subprocess.run([analyze, "--help"], capture_output=True, text=True, check=False, timeout=60)
    return "--offline" in proc.stdout


# Measured 1.4 with systemd 252; a change that weakens the hardening noticeably fails here.
MAX_EXPOSURE = 2.0


@pytest.mark.parametrize("name", ["receptord.service", "receptord@a.service"])
def test_systemd_analyze_security(analyze: str, name: str, tmp_path: Path) -> None:
    if not _security_supported(analyze):
        skip_or_fail_in_ci("systemd-analyze security --offline needs systemd >= 250 (Debian 12 has 252)")
    units = _install_units(tmp_path)
    proc = _analyze(analyze, "security", "--offline=yes", "--no-pager", str(units / name), cwd=units)
    assert proc.returncode == 0, proc.stderr
    m = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    assert float(m[1]) < MAX_EXPOSURE, proc.stdout
