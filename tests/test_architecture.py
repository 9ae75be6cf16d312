"""The rules that keep effbench's modules readable, checked on the source so that they stay true:
no module over MAX_LINES lines, no import cycle among effbench's modules, and a storage layer that
knows tables, not analyses (see "The shape of the house" in the style guide)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "effbench"
MAX_LINES = 600

# Modules over MAX_LINES that are being split; each entry goes once its module is under the limit.
STILL_TO_SPLIT: set[str] = set()
# Packages whose modules still import one another in a cycle (none now; an entry must say why it stays).
CYCLES_TO_BREAK: set[str] = set()

# What computes analyses; the storage layer must not import any of them (nor a module of theirs once
# one becomes a package).
ANALYSIS_MODULES = {
    "effbench.stats", "effbench.reliability", "effbench.flash", "effbench.compare", "effbench.paired",
    "effbench.scaling", "effbench.contamination", "effbench.multilingual", "effbench.tiers",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """Return the effbench modules `path` imports anywhere in its text: at the top, inside functions (an
    import put off to run time is a dependency all the same) or for type checkers only."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    # Importing a module runs its packages' __init__ first: `effbench.render.values` imports `effbench.render`.
    found |= {module.rsplit(".", depth)[0] for module in set(found) for depth in range(1, module.count("."))}
    return {module for module in found if module in known and module != name and not name.startswith(module + ".")}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Return the strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def within(module: str, packages: set[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_no_module_is_longer_than_a_person_reads():
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) <= STILL_TO_SPLIT, f"over {MAX_LINES} lines: {long}"
    assert not STILL_TO_SPLIT - set(long), f"split already, take off STILL_TO_SPLIT: {STILL_TO_SPLIT - set(long)}"


def test_no_import_cycle_among_effbench_modules():
    found = [sorted(c) for c in cycles(import_graph()) if not all(within(m, CYCLES_TO_BREAK) for m in c)]
    assert not found, f"import cycles: {found}"


def test_the_storage_layer_imports_no_analysis():
    imported = import_graph()["effbench.store"]
    assert not {m for m in imported if within(m, ANALYSIS_MODULES)}, sorted(imported)


def test_the_cycle_finder_finds_a_cycle_and_nothing_else():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [{"a", "b", "c"}]
