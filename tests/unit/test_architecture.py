"""The package graph keeps the shape docs/architecture.md draws: arrows point down only.

Every `import` of relkit code is read from the source with `ast` (imports inside functions
too: a lazy import is still a dependency), then checked against the layers below and for
cycles. A failure names the importing module, the imported one and the rule it breaks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# Lower number = lower layer. A module may import its own layer or any lower one.
LAYERS: dict[str, int] = {
    "core": 0,
    "adapters": 1,
    "history": 2,
    "signing": 2,
    "bundle": 3,
    "promote": 3,
    "cut": 4,
    "release": 4,
    "init": 4,
    "commands": 5,
    "cli": 6,
    "__main__": 7,
}
# The root package only holds `__version__`; anyone may read it.
ROOT_PACKAGE = "relkit"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((SRC / "relkit").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[tuple[str, bool]]:
    """(imported relkit module, imported at module level) for each import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        eager = id(node) in top_level
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == ROOT_PACKAGE:
                    yield alias.name, eager
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            if base.split(".")[0] != ROOT_PACKAGE:
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if candidate in MODULES else base), eager


EDGES: dict[str, set[tuple[str, bool]]] = {
    name: {(target, eager) for target, eager in _imports(name, path) if target != name}
    for name, path in MODULES.items()
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ROOT_PACKAGE


def test_every_part_of_the_tree_has_a_layer() -> None:
    parts = {_part(name) for name in MODULES} - {ROOT_PACKAGE}
    assert parts <= set(LAYERS), f"packages without a layer: {sorted(parts - set(LAYERS))}"
    loose = [n for n in MODULES if n.count(".") == 1 and _part(n) not in LAYERS]
    assert not loose, f"modules loose in src/relkit/: {loose}"


def test_arrows_point_down_only() -> None:
    wrong = [
        f"{source} imports {target} ({_part(source)} may not import {_part(target)})"
        for source, targets in EDGES.items()
        for target, _eager in targets
        if _part(source) != ROOT_PACKAGE
        and _part(target) != ROOT_PACKAGE
        and LAYERS[_part(target)] > LAYERS[_part(source)]
    ]
    assert not wrong, "\n".join(sorted(wrong))


def test_core_imports_nothing_of_relkit_outside_core() -> None:
    wrong = [
        f"{source} imports {target}"
        for source, targets in EDGES.items()
        if _part(source) == "core"
        for target, _eager in targets
        if _part(target) not in {"core", ROOT_PACKAGE}
    ]
    assert not wrong, "\n".join(wrong)


def test_domain_never_imports_a_step_or_a_command() -> None:
    domain = {"core", "adapters", "history", "signing", "bundle", "promote"}
    wrong = [
        f"{source} imports {target}"
        for source, targets in EDGES.items()
        if _part(source) in domain
        for target, _eager in targets
        if target.startswith(("relkit.release", "relkit.commands", "relkit.cut", "relkit.cli"))
    ]
    assert not wrong, "\n".join(wrong)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for source, targets in EDGES.items():
        for target, _eager in targets:
            a, b = _part(source), _part(target)
            if a != b and ROOT_PACKAGE not in (a, b):
                graph.setdefault(a, set()).add(b)
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_no_import_cycle_between_modules() -> None:
    graph = {source: {target for target, _ in targets} for source, targets in EDGES.items()}
    # A package's __init__ re-exporting its own modules is not a cycle anyone can hit.
    for name in MODULES:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


@pytest.mark.parametrize(
    ("layers", "edge", "broken"),
    [
        ({"core": 0, "release": 4}, ("relkit.core.model", "relkit.release.plan"), True),
        ({"core": 0, "release": 4}, ("relkit.release.plan", "relkit.core.model"), False),
    ],
)
def test_the_rule_itself_catches_an_upward_arrow(
    layers: dict[str, int], edge: tuple[str, str], broken: bool
) -> None:
    source, target = edge
    assert (layers[_part(target)] > layers[_part(source)]) is broken


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None
