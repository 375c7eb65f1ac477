"""`python -m bench [queue|allocator|explain|planner|planner_reading|stability] ...`: run the named benchmarks
(all by default)."""

from __future__ import annotations

import logging
import sys

from bench import allocator, explain, planner, queue, stability

BENCHMARKS = {
    "queue": queue.main,
    "allocator": allocator.main,
    "explain": explain.main,
    "planner": planner.main,
    "planner_reading": planner.reading_main,
    "stability": stability.main,
}


def main(argv: list[str]) -> int:
    logging.getLogger("alembic").setLevel(logging.WARNING)
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
