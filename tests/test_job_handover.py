"""A job's large numpy arrays reach the solver process through an anonymous memory file, not
the pipe (workers.pack_job): intact and writable there, and nothing left behind, however the
solver ends."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from daemon import workers
from daemon.solving import SolveContext, SolveOutcome


def checksum(problem: dict[str, Any], ctx: SolveContext) -> SolveOutcome:
    """In the solver process: what arrived, and whether the arrays can be written."""
    big = problem["big"]
    big[0] += 1.0  # a solver may scale its arrays in place
    return SolveOutcome(
        "COMPLETED",
        {
            "sum": float(big.sum()),
            "ints": problem["ints"].tolist()[:5],
            "shape": list(problem["matrix"].shape),
            "matrix_sum": int(problem["matrix"].sum()),
            "name": problem["name"],
        },
        None,
    )


def sleeper(problem: dict[str, Any], ctx: SolveContext) -> SolveOutcome:
    time.sleep(60)
    raise AssertionError("killed before")


def memfds() -> list[str]:
    """This process's open memory files."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("/memfd:receptord-job"):
            found.append(target)
    return found


def problem(n: int) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    return {
        "big": rng.random(n),
        "ints": np.arange(n, dtype=np.int32),
        "matrix": np.asfortranarray(np.arange(12, dtype=np.int64).reshape(3, 4)),
        "name": "run",
    }


def test_large_arrays_go_through_a_memory_file_and_small_jobs_through_the_pipe() -> None:
    big = workers.pack_job(problem(300_000))
    try:
        assert big.fd is not None and len(big.layout) == 3
        assert all(start % 64 == 0 for start, _ in big.layout)
        assert len(big.header) < 10_000  # the arrays are not in the pickle
    finally:
        big.close()
    small = workers.pack_job(problem(10))
    assert small.fd is None and small.layout == []
    assert not memfds()


@pytest.mark.parametrize("n", [10, 300_000])
def test_a_job_arrives_intact_and_writable(n: int) -> None:
    slot = workers.SolverSlot(workers.context(), "json", "warning")
    slot.start()
    try:
        sent = problem(n)
        for _ in range(2):  # the same process serves the next job alike
            slot.submit(checksum, sent, {}, 1)
            out = None
            while out is None:
                out = slot.result(5)
            assert out.metadata == {
                "sum": float(sent["big"].sum()) + 1.0,
                "ints": list(range(min(n, 5))),
                "shape": [3, 4],
                "matrix_sum": 66,
                "name": "run",
            }
        assert float(sent["big"].sum()) == float(problem(n)["big"].sum())  # the daemon's copy is untouched
        assert not memfds()
    finally:
        slot.shutdown()


def mapped_memfds(pid: int) -> list[str]:
    return [line for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if "/memfd:receptord-job" in line]


def test_a_killed_solver_leaves_no_memory_file_behind() -> None:
    """The solver maps the file and the daemon keeps no descriptor of it: an anonymous file
    (never in /dev/shm) that goes with the last process holding it."""
    slot = workers.SolverSlot(workers.context(), "json", "warning")
    slot.start()
    try:
        pid = slot.pid
        assert pid is not None
        slot.submit(sleeper, problem(300_000), {}, 1)
        deadline = time.monotonic() + 10
        while not mapped_memfds(pid):
            assert time.monotonic() < deadline, "the solver never mapped the job's file"
            time.sleep(0.05)
        assert not memfds()  # closed once sent: the solver holds the only reference
        slot.kill()
        assert not Path(f"/proc/{pid}").exists()
        assert not memfds()
    finally:
        slot.shutdown()


def test_trailing_empty_array_after_unaligned_one_is_received() -> None:
    """Review: an empty array after one whose length is not a multiple of 64 got a start past
    the file's end; the solver's mmap raised ValueError (mmap length is greater than file size)."""
    from multiprocessing import Pipe

    import numpy as np

    from daemon import workers

    a, b = Pipe()
    job = {"x": np.ones(workers.SHARED_MIN_BYTES + 3, dtype=np.uint8), "z": np.zeros(0, dtype=np.int64)}
    packed = workers.pack_job(job)
    assert packed.fd is not None
    try:
        workers.send_job(a, packed)
    finally:
        packed.close()
    out = workers._receive(b)
    assert out["x"].shape == (workers.SHARED_MIN_BYTES + 3,) and out["z"].shape == (0,)
