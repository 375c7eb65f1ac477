"""Prove the fence tests have teeth: delete each clause of the claim fence from each fenced
statement, one at a time, and check the fence tests fail.

    python -m tests.fence_mutations            # make mutation; CI runs it

Each mutant is a copy of the working tree with one clause removed from one file of
``sql/queue/``; ``pytest -m fence -x`` runs in the copy (its own ``daemon`` and ``sql``, its
own embedded server) and must fail. Prints one line per mutant and exits non-zero if any
survived. Survivors mean a fence clause no test depends on: a guarantee nobody checks.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCED = ["heartbeat", "lock", "finish", "release"]
CLAUSES = [
    " AND status = 'GENERATING'",
    " AND claimed_by = %(daemon)s",
    " AND attempts = %(attempts)s",
]


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listed.stdout.splitlines() if (ROOT / name).is_file()]


def mutant(folder: Path, statement: str, clause: str) -> Path:
    for name in tracked_files():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    sql = folder / "sql" / "queue" / f"{statement}.sql"
    text = sql.read_text()
    if clause not in text:
        raise SystemExit(f"fence clause {clause.strip()!r} not found in sql/queue/{statement}.sql")
    sql.write_text(text.replace(clause, "", 1))
    return folder


def survives(folder: Path) -> bool:
    """True when the fence tests pass on the mutant (they should fail)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "fence", "-x", "-q", "-p", "no:cacheprovider", "tests/test_fence.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"pytest could not run the fence tests on a mutant:\n{done.stdout}\n{done.stderr}")
    return done.returncode == 0


def main() -> int:
    survivors = []
    for statement in FENCED:
        for clause in CLAUSES:
            began = time.monotonic()
            with tempfile.TemporaryDirectory(prefix="receptord-mutant-") as tmp:
                alive = survives(mutant(Path(tmp), statement, clause))
            verdict = "SURVIVED" if alive else "caught"
            print(f"{verdict:8} sql/queue/{statement}.sql without{clause}  ({time.monotonic() - began:.0f} s)")
            if alive:
                survivors.append((statement, clause))
    print(f"{len(FENCED) * len(CLAUSES) - len(survivors)} of {len(FENCED) * len(CLAUSES)} fence mutations caught")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
