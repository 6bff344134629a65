"""The staging layer is the registry written out for dbt: the committed files equal what the scaffold
generates from the registry and the migrated source schema, and nothing under assets/ but ingest and
erasure (the owners of the raw copies) spells a raw schema."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RAW_OWNERS = ("assets/ingest/", "assets/operations/erasure.py")


def raw_mentions(root: Path = REPO) -> list[str]:
    """`grep -rn "raw_" assets/` without the owners of the raw copies (every file, not only Python)."""
    found = []
    for path in sorted((root / "assets").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or rel.startswith(RAW_OWNERS):
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{rel}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1) if "raw_" in line]
    return found


def test_only_ingest_and_erasure_spell_raw_under_assets():
    assert raw_mentions() == []


def test_the_scan_agrees_with_grep():
    grep = subprocess.run(["grep", "-rn", "--exclude-dir=__pycache__", "raw_", "assets/"], cwd=REPO,
                          capture_output=True, text=True).stdout.splitlines()
    others = [line for line in grep if not line.startswith(RAW_OWNERS)]
    assert others == []
    assert any(line.startswith("assets/ingest/") for line in grep)  # the owners do, so the grep can see it


def test_the_scan_sees_a_raw_mention(tmp_path):
    (tmp_path / "assets" / "mood").mkdir(parents=True)
    (tmp_path / "assets" / "ingest").mkdir(parents=True)
    (tmp_path / "assets" / "mood" / "q.sql").write_text("select 1\nfrom raw_mindflow.users\n")
    (tmp_path / "assets" / "ingest" / "apply.py").write_text("SCHEMA = 'raw_mindflow'\n")
    assert raw_mentions(tmp_path) == ["assets/mood/q.sql:2: from raw_mindflow.users"]


def test_the_committed_staging_layer_is_what_the_scaffold_generates(databases):
    from sources.dbt_scaffold import STAGING_DIR, read_columns, staging_files

    generated = staging_files(read_columns(databases.source_url))
    committed = {p.relative_to(STAGING_DIR).as_posix(): p.read_text() for p in STAGING_DIR.rglob("*")
                 if p.is_file() and re.search(r"\.(sql|yml)$", p.name)}
    assert sorted(generated) == sorted(committed)
    assert [name for name in generated if generated[name] != committed[name]] == []
