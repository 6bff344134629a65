"""Raw table layout and schema drift: pure comparisons and SQL builders (identifiers via psycopg.sql).

raw_<product>.<table> holds the source columns (same names, types, order), then `_ingested_at` and
`_source_lsn`. Only the primary key is carried over as a constraint: replaying the change stream over a
newer snapshot passes through intermediate states that a unique or NOT NULL constraint could refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

META_COLUMNS = ("_ingested_at", "_source_lsn")

Columns = list[tuple[str, str]]  # (name, formatted type) in ordinal order


@dataclass(frozen=True)
class Drift:
    added: tuple[tuple[str, str], ...] = ()
    dropped: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()  # (column, raw type, source type)
    moved: bool = False  # same columns, different order (a column dropped and re-added)

    @property
    def blocking(self) -> bool:
        return bool(self.dropped or self.retyped or self.moved)

    @property
    def any(self) -> bool:
        return bool(self.added) or self.blocking

    def message(self, qualified: str) -> str:
        parts = []
        if self.dropped:
            parts.append(f"column(s) dropped in the source: {', '.join(self.dropped)}")
        if self.retyped:
            parts.append("column(s) retyped: " + ", ".join(f"{c} {old} -> {new}" for c, old, new in self.retyped))
        if self.moved:
            parts.append("column order differs from the raw copy")
        if self.added:
            parts.append(f"column(s) added: {', '.join(f'{c} {t}' for c, t in self.added)}")
        text = f"schema drift in {qualified}: " + "; ".join(parts)
        if self.blocking:
            text += (
                f". Ingest of {qualified} is stopped until it is resynced by a full reload: "
                f"`python -m assets.ingest.cli resync {qualified}` (assets.ingest.pipeline.resync_table)."
            )
        return text

    def events(self) -> list[dict]:
        out = [{"kind": "added", "column": c, "type": t} for c, t in self.added]
        out += [{"kind": "dropped", "column": c} for c in self.dropped]
        out += [{"kind": "retyped", "column": c, "from": old, "to": new} for c, old, new in self.retyped]
        if self.moved:
            out.append({"kind": "moved", "column": None})
        return out


def source_part(raw_columns: Columns) -> Columns:
    return [c for c in raw_columns if c[0] not in META_COLUMNS]


def compare(source: Columns, raw: Columns) -> Drift:
    """How the source table's columns differ from its raw copy's source columns."""
    raw_src = source_part(raw)
    raw_types = dict(raw_src)
    src_types = dict(source)
    dropped = tuple(c for c, _ in raw_src if c not in src_types)
    retyped = tuple((c, raw_types[c], t) for c, t in source if c in raw_types and raw_types[c] != t)
    added = tuple((c, t) for c, t in source if c not in raw_types)
    common_src = [c for c, _ in source if c in raw_types]
    common_raw = [c for c, _ in raw_src if c in src_types]
    return Drift(added=added, dropped=dropped, retyped=retyped, moved=common_src != common_raw)


def create_raw_table(
    schema: str, table: str, columns: Columns, key: tuple[str, ...], primary_key: bool = True
) -> sql.Composed:
    cols = [
        sql.SQL("{} {}{}").format(sql.Identifier(name), sql.SQL(typ), sql.SQL(" NOT NULL" if name in key else ""))
        for name, typ in columns
    ]
    cols.append(sql.SQL("_ingested_at timestamptz NOT NULL DEFAULT now()"))
    cols.append(sql.SQL("_source_lsn pg_lsn"))
    if primary_key:
        cols.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, key))))
    return sql.SQL("CREATE TABLE {}.{} ({})").format(sql.Identifier(schema), sql.Identifier(table), sql.SQL(", ").join(cols))


def add_primary_key(schema: str, table: str, key: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("ALTER TABLE {}.{} ADD PRIMARY KEY ({})").format(
        sql.Identifier(schema), sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, key))
    )


def add_columns(schema: str, table: str, added) -> sql.Composed:
    return sql.SQL("ALTER TABLE {}.{} {}").format(
        sql.Identifier(schema),
        sql.Identifier(table),
        sql.SQL(", ").join(sql.SQL("ADD COLUMN {} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in added),
    )
