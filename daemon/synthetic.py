"""Synthetic hospitals: realistic-looking allocation runs for the demo, tests and benchmarks.

Everything is inserted with COPY and generated from a seed, so the same call always builds
the same hospital (ids are derived from the seed too).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from daemon.db import sql_text
from daemon.planner.data import Position

FIRST = [
    "Alex",
    "Sam",
    "Priya",
    "Wei",
    "Olivia",
    "Noah",
    "Aisha",
    "Lucas",
    "Mia",
    "Ethan",
    "Zara",
    "Liam",
    "Chloe",
    "Arjun",
    "Grace",
    "Tom",
    "Isla",
    "Omar",
    "Ruby",
    "Jack",
]
LAST = [
    "Nguyen",
    "Smith",
    "Patel",
    "Chen",
    "Williams",
    "Brown",
    "Singh",
    "Taylor",
    "Kelly",
    "Wilson",
    "Martin",
    "Khan",
    "Anderson",
    "Lee",
    "Walker",
    "White",
    "Harris",
    "Young",
]
SPECIALTIES = [
    "General Medicine",
    "General Surgery",
    "Emergency",
    "Psychiatry",
    "Paediatrics",
    "Obstetrics & Gynaecology",
    "Intensive Care",
    "Rural Generalist",
    "Orthopaedics",
    "Cardiology",
    "Geriatrics",
    "Relief & Nights",
]


@dataclass(frozen=True)
class Hospital:
    allocation_run: str
    workers: list[str]  # worker mapping ids
    lines: list[str]  # job line ids


def seed_allocation(
    conn: psycopg.Connection[Any],
    *,
    workers: int,
    lines: int,
    capacity: int = 1,
    ranked: int | None = None,
    seed: int = 1,
    name: str | None = None,
    supervisors: int = 0,
) -> Hospital:
    """An allocation run with ``workers`` doctors each ranking ``ranked`` (default all) of
    ``lines`` job lines of ``capacity`` seats, with ranks drawn at random; ``supervisors``
    preferencers each own every supervisors-th line and rank all workers. Commits."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    run = ids.next()
    line_ids = [ids.next() for _ in range(lines)]
    with conn.transaction():
        conn.execute(
            "INSERT INTO allocationruns (id, name, periodstart, periodend) VALUES (%s, %s, '2027-01-04', '2027-12-31')",
            (run, name or f"Synthetic {workers}x{lines} (seed {seed})"),
        )
        with conn.cursor() as cur:
            with cur.copy("COPY job_lines (id, allocation_run, name, sort_order, max_n_workers) FROM STDIN") as copy:
                for i, line in enumerate(line_ids):
                    spec = SPECIALTIES[i % len(SPECIALTIES)]
                    copy.write_row((line, run, f"Line {i + 1:04d} ({spec})", i, capacity))
            mapping_ids = _seed_workers(cur, rng, ids=ids, run=run, line_ids=line_ids, workers=workers, ranked=ranked)
            if supervisors:
                _seed_supervisors(
                    cur, rng, ids=ids, run=run, count=supervisors, line_ids=line_ids, mapping_ids=mapping_ids
                )
    return Hospital(run, mapping_ids, line_ids)


def _seed_supervisors(
    cur: psycopg.Cursor[Any],
    rng: random.Random,
    *,
    ids: _Ids,
    run: str,
    count: int,
    line_ids: list[str],
    mapping_ids: list[str],
) -> None:
    sup_ids = [ids.next() for _ in range(count)]
    with cur.copy("COPY allocation_run_preferencers (id, allocation_run, name) FROM STDIN") as copy:
        for i, sup in enumerate(sup_ids):
            copy.write_row((sup, run, f"Supervisor {i + 1}"))
    with cur.copy("COPY job_line_preferencers (job_line, preferencer) FROM STDIN") as copy:
        for i, line in enumerate(line_ids):
            copy.write_row((line, sup_ids[i % count]))
    with cur.copy("COPY preference_preferencer_workers (preferencer, worker_mapping, rank) FROM STDIN") as copy:
        order = list(mapping_ids)
        for sup in sup_ids:
            rng.shuffle(order)
            for rank, m in enumerate(order, start=1):
                copy.write_row((sup, m, rank))


def seed_workers(
    conn: psycopg.Connection[Any], allocation_run: str, *, workers: int, ranked: int | None = None, seed: int = 1
) -> list[str]:
    """Add ``workers`` doctors to an allocation run, each ranking ``ranked`` (default all) of
    its job lines at random (e.g. lines a planner run generated). Commits; returns the
    worker mapping ids."""
    rng = random.Random(seed)
    line_ids = [str(r[0]) for r in conn.execute(sql_text("demo/line_ids"), {"allocation_run": allocation_run})]
    with conn.transaction(), conn.cursor() as cur:
        return _seed_workers(
            cur, rng, ids=_Ids(rng), run=allocation_run, line_ids=line_ids, workers=workers, ranked=ranked
        )


def _seed_workers(
    cur: psycopg.Cursor[Any],
    rng: random.Random,
    *,
    ids: _Ids,
    run: str,
    line_ids: list[str],
    workers: int,
    ranked: int | None,
) -> list[str]:
    worker_ids = [ids.next() for _ in range(workers)]
    mapping_ids = [ids.next() for _ in range(workers)]
    with cur.copy("COPY workers (id, name, email) FROM STDIN") as copy:
        for i, w in enumerate(worker_ids):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            copy.write_row((w, f"Dr {first} {last}", f"{first}.{last}.{i}@example.org".lower()))
    with cur.copy("COPY allocation_run_worker_mappings (id, allocation_run, worker) FROM STDIN") as copy:
        for m, w in zip(mapping_ids, worker_ids, strict=True):
            copy.write_row((m, run, w))
    k = len(line_ids) if ranked is None else min(ranked, len(line_ids))
    with cur.copy("COPY preference_worker_job_lines (worker_mapping, job_line, rank) FROM STDIN") as copy:
        # Text rows written a worker at a time: write_row per row would take ~40 s for the
        # 2.25 M rows of a 1,500 x 1,500 hospital.
        order = list(line_ids)
        for m in mapping_ids:
            rng.shuffle(order)
            copy.write("".join(f"{m}\t{line}\t{rank}\n" for rank, line in enumerate(order[:k], start=1)))
    return mapping_ids


class _Ids:
    """Deterministic uuids from the seed's random stream."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def next(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def seed_positions(conn: psycopg.Connection[Any], positions: Sequence[Position], *, name: str, seed: int = 1) -> str:
    """An allocation run holding ``positions`` (their ids replaced by fresh uuids); returns
    its id. Commits."""
    ids = _Ids(random.Random(seed))
    run = ids.next()
    with conn.transaction():
        conn.execute("INSERT INTO allocationruns (id, name) VALUES (%s, %s)", (run, name))
        with conn.cursor() as cur, cur.copy(sql_text("planner/copy_positions")) as copy:
            for p in positions:
                copy.write_row(
                    (ids.next(), run, p.name, p.parent_specialty, p.subspecialty, list(p.experience_categories),
                     p.is_service_term, p.is_nights, p.is_rural, p.is_non_clinical, p.is_team_based, p.capacity,
                     None if p.capacity_by_term is None else list(p.capacity_by_term),
                     None if p.cohorts is None else list(p.cohorts), p.excludable, list(p.tags),
                     p.six_month_approved)
                )  # fmt: skip
    return run
