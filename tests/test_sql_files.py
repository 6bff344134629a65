"""One SQL loader: sources.sql_files.sql_text reads every statement file the Python areas ship, and no
other module builds a path to an `sql/` folder or opens a .sql file itself (pure: reads the files)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sources.sql_files import SqlFileMissing, sql_text

REPO = Path(__file__).resolve().parent.parent
AREAS = ("orchestration", "sources", "assets", "quality", "bench")
LOADER = "sources/sql_files.py"
# The migration runner discovers a versioned, checksummed set of files in a directory its caller names
# (tests pass a temporary one); it is not a module asking for its own statements by name.
NOT_STATEMENTS = {"sources/migrate.py"}
READS = {"read_text", "read_bytes", "open"}


def _names_sql(node: ast.AST) -> bool:
    """A string (plain or f-string) naming a .sql file."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.endswith(".sql")
    if isinstance(node, ast.JoinedStr) and node.values:
        last = node.values[-1]
        return isinstance(last, ast.Constant) and str(last.value).endswith(".sql")
    return False


def _sql_path(node: ast.AST) -> bool:
    """`<path> / "x.sql"` or a path with a .sql name inside it."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _names_sql(node.right) or _sql_path(node.left)
    return _names_sql(node)


def own_sql_reads(source: str) -> list[int]:
    """Line numbers where a module reads SQL text without the loader: a path to an `sql` folder, a
    .sql path that is read or opened, or a glob for .sql files."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant) \
                and node.right.value == "sql":
            lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in READS and _sql_path(func.value):
                lines.append(node.lineno)
            elif isinstance(func, ast.Name) and func.id == "open" and node.args and _sql_path(node.args[0]):
                lines.append(node.lineno)
            elif isinstance(func, ast.Attribute) and func.attr in ("glob", "rglob") and node.args \
                    and _names_sql(node.args[0]):
                lines.append(node.lineno)
    return sorted(lines)


def modules_reading_sql(root: Path = REPO) -> list[str]:
    found = []
    for area in AREAS:
        for path in sorted((root / area).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel == LOADER or rel in NOT_STATEMENTS:
                continue
            found += [f"{rel}:{line}" for line in own_sql_reads(path.read_text())]
    return found


def test_no_module_reads_sql_files_but_the_loader():
    assert modules_reading_sql() == []


@pytest.mark.parametrize("code", [
    'SQL_DIR = Path(__file__).parent / "sql"\n',
    'text = (HERE / "queries" / "q.sql").read_text()\n',
    'text = open(f"{folder}/{name}.sql").read()\n',
    'files = sorted(folder.glob("*.sql"))\n',
])
def test_the_scan_sees_a_module_reading_sql_itself(code):
    assert own_sql_reads(code) == [1]


def test_the_scan_leaves_writes_and_sql_composition_alone():
    code = ('(folder / f"{name}.sql").write_text(body)\n'
            'query = sql.SQL("SELECT 1")\n'
            'text = sql_text(__package__, "meta.sql")\n')
    assert own_sql_reads(code) == []


def test_the_loader_reads_a_package_file():
    assert sql_text("assets.ingest", "meta.sql") == (REPO / "assets" / "ingest" / "sql" / "meta.sql").read_text()
    # a module name finds its package's folder, so __name__ works as well as __package__
    assert sql_text("assets.ingest.state", "meta.sql") == sql_text("assets.ingest", "meta.sql")


def test_a_missing_file_names_itself_and_its_package():
    with pytest.raises(SqlFileMissing, match=r"sql/no_such_statement\.sql not found in package assets\.search"):
        sql_text("assets.search", "no_such_statement.sql")


def test_a_missing_package_or_none_is_a_clear_error():
    with pytest.raises(SqlFileMissing, match="no package named assets.no_such_area"):
        sql_text("assets.no_such_area", "x.sql")
    with pytest.raises(SqlFileMissing, match="pass __package__"):
        sql_text(None, "x.sql")
