"""The shape of the house: dependencies point one way, and every change kind is found by itself."""

from __future__ import annotations

import ast
from pathlib import Path

from chalicelib.ops import actions
from chalicelib.ops.grammar import MUTATING

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
# Bottom to top: a part may import only parts listed before it (and itself).
LAYERS = [
    {"errors", "units", "markup"},
    {"approvals"},
    {"accounts", "journal"},
    {"config"},
    {"aws"},
    {"events", "store"},
    {"diagnosis", "audit"},
    {"ops", "alarms"},
    {"slack"},
    {"cli", "container"},
    {"probe"},
]


def _part(module: str) -> str | None:
    names = module.split(".")
    return names[1] if names[0] == "chalicelib" and len(names) > 1 else None


def imports() -> dict[str, set[str]]:
    """Every part of chalicelib → the parts it imports (module level, in functions, for types)."""
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        part = rel.parts[1] if len(rel.parts) > 1 else rel.parts[0]
        part = part.removesuffix(".py")
        targets = graph.setdefault(part, set())
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found = _part(node.module)
                if node.module == "chalicelib":
                    targets.update(a.name for a in node.names)
                elif found:
                    targets.add(found)
            elif isinstance(node, ast.Import):
                targets.update(p for p in (_part(a.name) for a in node.names) if p)
    return graph


def test_every_part_imports_only_parts_below_it() -> None:
    level = {part: i for i, layer in enumerate(LAYERS) for part in layer}
    graph = imports()
    assert set(graph) - {"__init__"} <= set(level), "a new part of chalicelib needs a layer"
    upward = sorted(
        f"{part} → {target}"
        for part, targets in graph.items()
        if part in level
        for target in targets
        if target != part and level[target] >= level[part]
    )
    assert upward == []


def test_every_mutating_verb_is_planned_by_exactly_one_kind() -> None:
    verbs = [v for kind in actions.registry().values() for v in kind.verbs]
    assert sorted(verbs) == sorted(MUTATING - {"undo"})


def test_each_kind_declares_its_plan_and_result_types() -> None:
    registry = actions.registry()
    assert set(registry) == {
        *("reserved_concurrency", "provisioned", "alias", "redrive"),
        *("memory", "timeout", "snooze", "runbook"),
    }
    for name, kind in registry.items():
        assert kind.kind == name
        assert kind.codec.plan.__dataclass_fields__
        assert kind.codec.result is not None and kind.codec.result.__dataclass_fields__
