"""Materialization metadata for the rollups: a mood trend plot (PNG in markdown) and a small table."""

from __future__ import annotations

import base64
import io


def mood_trend_markdown(rows: list[tuple]) -> str:
    """rows: (day, avg_mood_score, entries) for recent days -> markdown with an embedded PNG."""
    if not rows:
        return "_no mood data yet_"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [r[0] for r in rows]
    avg = [float(r[1]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 2.6), dpi=90)
    ax.plot(days, avg, color="#3b7dd8", linewidth=1.6)
    ax.axhline(0, color="#999", linewidth=0.6)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("avg mood_score")
    ax.set_title("Mood trend (all users, daily)")
    fig.autofmt_xdate()
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    img = base64.b64encode(buf.getvalue()).decode()
    table = "\n".join(f"| {d:%Y-%m-%d} | {a:+.3f} | {n} |" for d, a, n in [(r[0], float(r[1]), r[2]) for r in rows[-7:]])
    return (f"![mood trend](data:image/png;base64,{img})\n\n| day | avg mood | entries |\n|---|---|---|\n{table}")


def markdown_table(header: list[str], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)
