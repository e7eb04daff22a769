"""Draws docs/floors.png, the README's picture of the floors (run: python docs/floors.py)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

FLOORS = [  # top to bottom: (floor, [(package, what it holds)])
    ("5  roof", [("policybot/", "CLI · composition root: builds settings, index, bot once")]),
    ("4  entry points", [("webapp/", "chat · staff · HTTP API"), ("eval/", "question sets → metrics")]),
    (
        "3  services",
        [
            ("indexing/", "discover → parse → diff\n→ embed → write → swap"),
            ("bot/", "question → cited answer\n(extractive | LLM, verified)"),
        ],
    ),
    (
        "2  data",
        [("ingest/", "files → documents + clauses"), ("vectorstore/", "Chroma + BM25 + catalog,\ngenerations")],
    ),
    ("1  core", [("core/", "records · settings · errors · Retriever protocol")]),
]
COLORS = ["#e2e8f0", "#dbeafe", "#dcfce7", "#fef3c7", "#f3e8ff"]


def main() -> None:
    fig, ax = plt.subplots(figsize=(10, 7.4))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, len(FLOORS) * 1.5)
    ax.axis("off")
    centers: dict[str, tuple[float, float]] = {}
    for row, (floor, boxes) in enumerate(FLOORS):
        y = (len(FLOORS) - 1 - row) * 1.5 + 0.25
        ax.text(0.05, y + 0.5, floor, fontsize=11, fontweight="bold", va="center")
        width = 7.6 / len(boxes)
        for i, (name, what) in enumerate(boxes):
            x = 2.2 + i * width
            ax.add_patch(
                FancyBboxPatch(
                    (x + 0.08, y), width - 0.16, 1.0, boxstyle="round,pad=0.02", fc=COLORS[row], ec="#475569"
                )
            )
            ax.text(x + width / 2, y + 0.7, name, ha="center", va="center", fontsize=11, family="monospace")
            ax.text(x + width / 2, y + 0.32, what, ha="center", va="center", fontsize=8.5)
            centers[name] = (x + width / 2, y)
    for upper, lower in [
        ("policybot/", "webapp/"),
        ("policybot/", "eval/"),
        ("webapp/", "bot/"),
        ("eval/", "bot/"),
        ("webapp/", "indexing/"),
        ("indexing/", "ingest/"),
        ("indexing/", "vectorstore/"),
        ("bot/", "core/"),
        ("ingest/", "core/"),
        ("vectorstore/", "core/"),
    ]:
        (x1, y1), (x2, y2) = centers[upper], centers[lower]
        ax.add_patch(FancyArrowPatch((x1, y1), (x2, y2 + 1.0), arrowstyle="-|>", mutation_scale=12, color="#64748b"))
    ax.set_title("Each floor imports only floors below it (checked by lint-imports in make test)", fontsize=10)
    out = Path(__file__).with_name("floors.png")
    fig.savefig(out, dpi=110, bbox_inches="tight")
    print(out)


if __name__ == "__main__":
    main()
