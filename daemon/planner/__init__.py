"""The planner: N anonymous, accreditation-compliant job lines that fill a hospital's positions.

Entry point ``daemon.planner.solve.solve(PlannerInput, SolveContext) -> SolveOutcome``; its
payload is a tuple of ``result.GeneratedLine``. Rules live in ``rules`` (one module per named
constraint), leave semantics in ``leave``, and every line is verified by the independent
``daemon.checks.planner`` before it is returned.
"""
