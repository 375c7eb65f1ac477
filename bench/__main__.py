"""`python -m bench [queue|allocator|nrmp|stability|explain|planner|planner_reading|xlsx] ...`: run the
named benchmarks (all by default). `python -m bench allocator L XL` runs only those allocator tiers,
`python -m bench stability G1` only those stability cases (neither saved)."""

from __future__ import annotations

import logging
import sys

from bench import allocator, explain, nrmp, planner, queue, stability, xlsx

BENCHMARKS = {
    "queue": queue.main,
    "allocator": allocator.main,
    "nrmp": nrmp.main,
    "explain": explain.main,
    "planner": planner.main,
    "planner_reading": planner.reading_main,
    "xlsx": xlsx.main,
    "stability": stability.main,
}


def main(argv: list[str]) -> int:
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if argv[:1] == ["allocator"] and len(argv) > 1:
        print("\n== allocator (tiers " + " ".join(argv[1:]) + ") ==")
        allocator.main(argv[1:])
        return 0
    if argv[:1] == ["stability"] and len(argv) > 1:
        print("\n== stability (cases " + " ".join(argv[1:]) + ") ==")
        stability.main(argv[1:])
        return 0
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in names:
        print(f"\n== {name} ==")
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
