"""Prove the fence tests have teeth: delete each clause of the claim fence from each fenced
statement, one at a time, and check the fence tests fail.

    python -m tests.fence_mutations            # make mutation; CI runs it

First the fence tests run on an unmutated copy of the working tree and must pass: a suite that
cannot pass (no server, a broken fixture) would "catch" every mutant. Then each mutant is a
copy with one clause removed from one file of ``sql/queue/``; ``pytest -m fence`` runs in the
copy (its own ``daemon`` and ``sql``, its own embedded server), and the mutant counts as caught
only when a test of ``tests/test_fence.py`` failed on an assertion: an error in a fixture, a
server that would not start or a test that raised something else is no evidence, and is
reported as such. Prints one line per mutant and exits non-zero unless every mutant is caught.
Survivors mean a fence clause no test depends on: a guarantee nobody checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCED = ["heartbeat", "lock", "finish", "release"]
CLAUSES = [
    " AND status = 'GENERATING'",
    " AND claimed_by = %(daemon)s",
    " AND attempts = %(attempts)s",
]
FENCE_TESTS = "tests/test_fence.py"
# Where the plugin below (loaded into the mutant's pytest with -p) writes one line per test:
# "<outcome> <node id>", outcome one of passed, assertion, failed (another exception), error.
OUTCOMES_ENV = "RECEPTORD_FENCE_OUTCOMES"


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


def copy_tree(folder: Path) -> Path:
    for name in tracked_files():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return folder


def mutate(folder: Path, statement: str, clause: str) -> Path:
    sql = folder / "sql" / "queue" / f"{statement}.sql"
    text = sql.read_text()
    if clause not in text:
        raise SystemExit(f"fence clause {clause.strip()!r} not found in sql/queue/{statement}.sql")
    sql.write_text(text.replace(clause, "", 1))
    return folder


def run_fence_tests(folder: Path) -> tuple[int, list[tuple[str, str]], str]:
    """pytest's exit code, each fence test's outcome, and pytest's output."""
    outcomes = folder / "fence-outcomes.txt"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "fence",
            "-q",
            "-rfE",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.fence_mutations",
            FENCE_TESTS,
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, OUTCOMES_ENV: str(outcomes)},
    )
    found = [tuple(line.split(" ", 1)) for line in outcomes.read_text().splitlines()] if outcomes.exists() else []
    return done.returncode, [(o, n) for o, n in found], f"{done.stdout}\n{done.stderr}"


def verdict(code: int, outcomes: list[tuple[str, str]]) -> str:
    """caught: a fence test failed on an assertion; SURVIVED: the fence tests passed; anything
    else (errors, other exceptions, pytest unable to run) proves nothing: NO EVIDENCE."""
    if any(o == "assertion" and n.startswith(f"{FENCE_TESTS}::") for o, n in outcomes):
        return "caught"
    if code == 0 and outcomes and all(o == "passed" for o, _ in outcomes):
        return "SURVIVED"
    return "NO EVIDENCE"


def main() -> int:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="receptord-unmutated-") as tmp:
        code, outcomes, output = run_fence_tests(copy_tree(Path(tmp)))
    if code != 0 or not outcomes or any(o != "passed" for o, _ in outcomes):
        print(output[-5000:])
        print(f"baseline failed: the fence tests do not pass on the unmutated tree (pytest exit {code})")
        return 2
    print(f"baseline  {len(outcomes)} fence tests pass unmutated  ({time.monotonic() - began:.0f} s)")
    uncaught = []
    for statement in FENCED:
        for clause in CLAUSES:
            began = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="receptord-mutant-") as tmp:
                code, outcomes, output = run_fence_tests(mutate(copy_tree(Path(tmp)), statement, clause))
            result = verdict(code, outcomes)
            print(f"{result:8} sql/queue/{statement}.sql without{clause}  ({time.monotonic() - began:.0f} s)")
            if result != "caught":
                uncaught.append((statement, clause))
                if result == "NO EVIDENCE":
                    print(output[-3000:])
    total = len(FENCED) * len(CLAUSES)
    print(f"{total - len(uncaught)} of {total} fence mutations caught")
    return 1 if uncaught else 0


# --- the pytest plugin (-p tests.fence_mutations), active only in the runs above -------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    target = os.environ.get(OUTCOMES_ENV)
    if not target:
        return
    report = outcome.get_result()
    if call.when == "call" and report.passed:
        result = "passed"
    elif call.when == "call" and report.failed:
        assertion = call.excinfo is not None and call.excinfo.errisinstance(AssertionError)
        result = "assertion" if assertion else "failed"
    elif report.failed:  # setup or teardown: a fixture, the server, the database
        result = "error"
    else:
        return
    with Path(target).open("a") as f:
        f.write(f"{result} {item.nodeid}\n")


if __name__ == "__main__":
    sys.exit(main())
