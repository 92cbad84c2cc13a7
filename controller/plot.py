"""Timing diagrams: each signal group's aspect over time, detector actuations beneath.

Drawn the way signal engineers draw them (a bar per group, coloured by aspect, a
hatched bar for flashing), with matplotlib's non-interactive backend. matplotlib (the
`plot` extra) is imported only when a diagram is drawn.
"""

from __future__ import annotations

from protocols import aspects as A

STYLE = {   # aspect: (colour, hatch, bar height)
    A.DARK: ("#ffffff", "", 0.2),
    A.RED: ("#d62728", "", 0.35),
    A.RED_AMBER: ("#ff7f0e", "//", 0.6),
    A.GREEN: ("#2ca02c", "", 0.8),
    A.FLASH_GREEN: ("#98df8a", "xx", 0.8),
    A.AMBER: ("#ffbf00", "", 0.6),
    A.FLASH_AMBER: ("#ffe08a", "xx", 0.6),
    A.FLASH_RED: ("#ff9896", "xx", 0.35),
}


def timing_diagram(aspects: dict[str, list[tuple[float, int]]],
                   detectors: dict[str, list[tuple[float, float]]],
                   t_end: float, path: str, title: str = "",
                   markers: list[tuple[float, str]] | None = None) -> None:
    """`aspects`: row name → [(time, aspect)] changes; `detectors`: row → [(on, off)]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    rows = list(aspects) + list(detectors)
    height = max(3.0, 0.32 * len(rows) + 1.2)
    fig, ax = plt.subplots(figsize=(14, height))
    t0 = min((ch[0][0] for ch in aspects.values() if ch), default=0.0)
    for y, name in enumerate(reversed(rows)):
        if name in aspects:
            changes = aspects[name]
            for (t, a), nxt in zip(changes, changes[1:] + [(t_end, None)], strict=True):
                colour, hatch, h = STYLE[a]
                ax.broken_barh([(t - t0, nxt[0] - t)], (y - h / 2, h), facecolors=colour,
                               hatch=hatch, edgecolor="#555555" if hatch else colour, linewidth=0)
        else:
            spans = [(a - t0, max(b - a, 0.1)) for a, b in detectors[name]]
            ax.broken_barh(spans, (y - 0.25, 0.5), facecolors="#1f77b4")
    for t, label in markers or []:
        ax.axvline(t - t0, color="black", linestyle="--", linewidth=0.8)
        ax.text(t - t0, len(rows) - 0.4, label, fontsize=7, rotation=90, va="top")
    ax.set_yticks(range(len(rows)), list(reversed(rows)), fontsize=8)
    ax.set_xlim(0, t_end - t0)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("time (s)")
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    legend = [Patch(facecolor=STYLE[a][0], hatch=STYLE[a][1], label=A.name(a))
              for a in (A.RED, A.RED_AMBER, A.GREEN, A.FLASH_GREEN, A.AMBER, A.FLASH_AMBER)]
    legend.append(Patch(facecolor="#1f77b4", label="detector on"))
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=7, fontsize=8)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
