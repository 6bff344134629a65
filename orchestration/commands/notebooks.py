"""`tessera notebooks`: run the analyst notebooks against the current warehouse (what `make notebooks`
runs) and write each one executed, with its plots as PNG files, under `$TESSERA_HOME/notebooks/`.

An analyst gets the figures without setting up a kernel; the executed copies open in Jupyter, VS Code
or any notebook viewer. The notebooks in `notebooks/` stay unexecuted in the repository."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass
from pathlib import Path

import click

from core.settings import Settings

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"


@dataclass(frozen=True)
class NotebookResult:
    name: str
    executed: Path
    plots: tuple[Path, ...]
    seconds: float
    error: str | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "plot"


def cell_images(book) -> list[tuple[str, bytes]]:
    """(file stem, PNG bytes) for every image/png output, in notebook order, named by cell number and
    the cell's `plot:<name>` tag (the notebooks tag their plots), else its first comment or line."""
    images = []
    for index, cell in enumerate(book.cells):
        if cell.cell_type != "code":
            continue
        pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        tags = [t.removeprefix("plot:") for t in cell.get("metadata", {}).get("tags", []) if t.startswith("plot:")]
        first = next((line.lstrip("# ") for line in cell.source.splitlines() if line.strip()), "")
        for n, data in enumerate(pngs):
            label = tags[n] if n < len(tags) else (tags[0] if tags else first)
            stem = f"{index:02d}_{_slug(label)}" + (f"_{n + 1}" if len(pngs) > 1 and len(tags) <= n else "")
            images.append((stem, base64.b64decode(data)))
    return images


def first_error(book) -> str | None:
    for cell in book.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return f"{out.get('ename')}: {out.get('evalue')}"
    return None


def run_notebook(path: Path, out_dir: Path, timeout: int = 600) -> NotebookResult:
    """Execute one notebook (cwd = the repository, so `orchestration` imports) and write it and its plots."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    started = time.monotonic()
    book = nbformat.read(path, as_version=4)
    error = None
    try:
        NotebookClient(book, timeout=timeout, kernel_name="python3", allow_errors=False,
                       resources={"metadata": {"path": str(path.parent.parent)}}).execute()
    except CellExecutionError as exc:
        error = first_error(book) or str(exc).strip().splitlines()[-1]
    target = out_dir / path.stem
    target.mkdir(parents=True, exist_ok=True)
    for old in target.glob("*.png"):
        old.unlink()
    executed = target / path.name
    nbformat.write(book, executed)
    plots = []
    for stem, data in cell_images(book):
        plot = target / f"{stem}.png"
        plot.write_bytes(data)
        plots.append(plot)
    return NotebookResult(path.stem, executed, tuple(plots), time.monotonic() - started, error)


@click.command()
@click.argument("names", nargs=-1)
def notebooks(names: tuple[str, ...]) -> None:
    """Run the analyst notebooks (all, or those whose name contains NAME) on the current warehouse and
    write them executed, with their plots as PNG, under $TESSERA_HOME/notebooks/."""
    settings = Settings.from_env()
    out_dir = Path(settings.home) / "notebooks"
    paths = [p for p in sorted(NOTEBOOK_DIR.glob("*.ipynb")) if not names or any(n in p.stem for n in names)]
    if not paths:
        raise click.UsageError(f"no notebook matches {' '.join(names)} in {NOTEBOOK_DIR}")
    failed = []
    for i, path in enumerate(paths, 1):
        result = run_notebook(path, out_dir)
        status = f"FAILED ({result.error})" if result.error else f"{len(result.plots)} plots"
        click.echo(f"[{i}/{len(paths)}] {result.name:<48} {status:<12} {result.seconds:5.1f}s")
        if result.error:
            failed.append(result.name)
    click.echo(f"Executed notebooks and plots: {out_dir}")
    if failed:
        raise click.ClickException(f"{len(failed)} notebooks failed (is the warehouse materialized? "
                                   f"`make demo` builds it): {', '.join(failed)}")
