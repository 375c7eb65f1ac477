"""The planner's rules see the run through ``rules.base.Plan`` only: the problem module builds
on the rules, so a rule importing it would make the dependency run both ways again."""

from __future__ import annotations

import ast
from pathlib import Path

import daemon.planner.rules as rules_package

RULES = Path(rules_package.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_rule_module_imports_the_problem_or_the_model() -> None:
    modules = sorted(RULES.glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        above = {m for m in _imports(path) if m in {"daemon.planner.problem", "daemon.planner.model"}}
        assert not above, f"{path.name} imports {above}"
