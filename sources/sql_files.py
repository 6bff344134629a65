"""The one way Python code reads the SQL files it ships: `sql_text(__package__, "name.sql")`.

Each area keeps its statements in a `sql/` folder inside its package (assets/mood/sql, assets/search/sql,
...). Reading them through importlib.resources rather than a path built from `__file__` means the text
comes from wherever the package is installed (a wheel, an editable checkout), and a file that is missing
fails with its package and name instead of a bare FileNotFoundError on a computed path. The text is
cached: a statement file is read once per process, however often a refresh runs it.

Migrations (sources/migrate.py) are not read here: they are a versioned, checksummed set discovered in a
directory the caller names, not statements a module asks for by name.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

SQL_FOLDER = "sql"


class SqlFileMissing(LookupError):
    """A module asked for a SQL file its package does not ship."""


@lru_cache(maxsize=None)
def sql_text(package: str, name: str) -> str:
    """The text of `<package>/sql/<name>`; `package` is a dotted package name, usually `__package__`.

    A module name is accepted too (its package is used), so a caller can pass `__name__` as well."""
    if not package:
        raise SqlFileMissing(f"sql_text({name!r}) needs the package that ships the file (pass __package__)")
    resource = _package_root(package, name).joinpath(SQL_FOLDER, *name.split("/"))
    if not resource.is_file():
        raise SqlFileMissing(f"SQL file {SQL_FOLDER}/{name} not found in package {package} (looked for {resource})")
    return resource.read_text(encoding="utf-8")


def _package_root(package: str, name: str):
    """importlib.resources.files of the package, or of the package containing a plain module."""
    try:
        return resources.files(package)
    except TypeError:  # a module, not a package (Python 3.11 only accepts packages)
        parent = package.rpartition(".")[0]
        if not parent:
            raise
        return resources.files(parent)
    except ModuleNotFoundError as exc:
        raise SqlFileMissing(f"SQL file {SQL_FOLDER}/{name}: no package named {package}") from exc
