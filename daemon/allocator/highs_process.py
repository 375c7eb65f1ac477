"""HiGHS (``highspy``) in a child process of its own.

OR-Tools ships its own, older HiGHS as ``libhighs.so.1``; highspy's is the same soname, and the
dynamic loader reuses whichever was loaded first, so the two cannot share a process (import
either first and the other fails with an undefined symbol). The solve process has OR-Tools
loaded, so the model goes, as plain arrays, to ``python -m daemon.allocator.highs_process``,
which solves it and sends back the column values and the bounds. A stop request kills the
child (``ctx.bind_solver``): a stopped run is discarded anyway. The child also dies with the
solver process that started it (kill -9 and the memory watchdog included): no HiGHS keeps
solving, and holding memory, for a run nobody waits for.
"""

from __future__ import annotations

import ctypes
import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from daemon.solving import SolveContext

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Extra wall time the child gets past its own time limit (start-up, reading, postsolve) before
# it is killed.
_GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Model:
    """min cost·x subject to row_lower <= A x <= row_upper, col bounds, ``integer`` columns."""

    col_lower: npt.NDArray[np.float64]
    col_upper: npt.NDArray[np.float64]
    cost: npt.NDArray[np.float64]
    integer: npt.NDArray[np.int64]  # indices of the integer columns
    row_lower: npt.NDArray[np.float64]
    row_upper: npt.NDArray[np.float64]
    indptr: npt.NDArray[np.int64]  # A in CSR
    indices: npt.NDArray[np.int64]
    data: npt.NDArray[np.float64]
    start: npt.NDArray[np.float64] | None = None  # a full starting solution, MIP only


@dataclass(frozen=True)
class Answer:
    status: str  # OPTIMAL, INFEASIBLE, FEASIBLE (a solution, not proven), UNKNOWN, ERROR
    values: npt.NDArray[np.float64] | None  # column values when there is a solution
    dual_bound: float  # the MIP's (or the LP's) lower bound; -inf if none


class _Killer:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    def stop_search(self) -> None:
        self._proc.kill()


def solve(model: Model, options: dict[str, Any], ctx: SolveContext) -> Answer:
    """Solve ``model`` with these HiGHS options (``time_limit`` among them) in a child."""
    buffer = io.BytesIO()
    arrays = {k: v for k, v in vars(model).items() if v is not None}
    np.savez(buffer, **arrays, options=np.array(repr(options)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon.allocator.highs_process", str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    ctx.bind_solver(_Killer(proc))
    try:
        out, err = proc.communicate(buffer.getvalue(), timeout=float(options["time_limit"]) + _GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Answer("UNKNOWN", None, float("-inf"))
    if proc.returncode != 0:
        status = "UNKNOWN" if ctx.stop_requested() else "ERROR"
        if status == "ERROR":
            sys.stderr.write(err.decode(errors="replace")[-2000:])
        return Answer(status, None, float("-inf"))
    got = np.load(io.BytesIO(out))
    values = got["values"] if got["has_values"] else None
    return Answer(str(got["status"]), values, float(got["dual_bound"]))


def _die_with(parent: int) -> None:
    """SIGKILL this process when ``parent`` dies (Linux PR_SET_PDEATHSIG; elsewhere nothing).

    Set by the child itself rather than in a ``preexec_fn``, which is unsafe in a parent with
    threads (the solver process has its watchers); the parent may have died before the call,
    so its pid is checked after it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:
        os._exit(1)


def _child() -> None:
    started = time.perf_counter()
    _die_with(int(sys.argv[1]))
    import ast

    import highspy

    got = np.load(io.BytesIO(sys.stdin.buffer.read()))
    options = ast.literal_eval(str(got["options"]))
    n, m = len(got["cost"]), len(got["row_lower"])
    highs = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's __init__ is unannotated
    highs.setOptionValue("output_flag", False)
    for key, value in options.items():
        highs.setOptionValue(key, value)
    highs.addVars(n, got["col_lower"], got["col_upper"])
    highs.changeColsCost(n, np.arange(n, dtype=np.int32), got["cost"])
    integer = got["integer"].astype(np.int32)
    if len(integer):
        kinds = np.full(len(integer), highspy.HighsVarType.kInteger, dtype=np.uint8)
        highs.changeColsIntegrality(len(integer), integer, kinds)
    indptr = got["indptr"]
    highs.addRows(
        m, got["row_lower"], got["row_upper"], int(indptr[-1]),
        indptr[:-1].astype(np.int32), got["indices"].astype(np.int32), got["data"],
    )  # fmt: skip
    if "start" in got:
        solution = highspy.HighsSolution()
        solution.col_value = got["start"].tolist()
        solution.value_valid = True
        highs.setSolution(solution)
    # time_limit counts from the parent's call: reading and loading the model used some of it.
    left = float(options["time_limit"]) - (time.perf_counter() - started)
    highs.setOptionValue("time_limit", max(left, 0.1))
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    feasible = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if status == highspy.HighsModelStatus.kOptimal:
        name = "OPTIMAL"
    elif status == highspy.HighsModelStatus.kInfeasible:
        name = "INFEASIBLE"
    elif feasible:
        name = "FEASIBLE"
    elif status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kInterrupt):
        name = "UNKNOWN"
    else:
        name = "ERROR"
    mip = len(integer) > 0
    bound = info.mip_dual_bound if mip else (info.objective_function_value if name == "OPTIMAL" else -np.inf)
    values = np.asarray(highs.getSolution().col_value) if feasible else np.zeros(0)
    out = io.BytesIO()
    np.savez(
        out,
        status=np.array(name),
        has_values=np.array(feasible),
        values=values,
        dual_bound=np.array(bound),
    )
    sys.stdout.buffer.write(out.getvalue())


if __name__ == "__main__":
    _child()
