"""Figures of a sweep: each chosen key result against the first swept parameter.

The pipeline runs the grid and writes its table (:mod:`cloudpad.pipeline.sweep`);
this module draws it, in the book's style, into the sweep's folder as SVG and
PNG.  Axis labels come from the parameter's declaration (meaning and unit, as
in the article's parameters cell); a numeric parameter is a numeric axis, any
other one tick per value; the other swept parameters make one line each.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cloudpad.pipeline import notebooks
from cloudpad.pipeline.baseline import is_number
from cloudpad.pipeline.outcomes import Outcome
from cloudpad.pipeline.parameters import notebook_parameters
from cloudpad.pipeline.sweep import SweepResult


def axis_label(notebook: Path, name: str) -> str:
    """``name: meaning (unit)`` from the parameter's declaration."""
    declared = notebook_parameters(notebook)[name]
    return f"{name}: {declared.label}"


def draw(sweep: SweepResult, names: Sequence[str]) -> list[Path]:
    """One figure per result in ``names`` against the first swept parameter; returns the files.

    Old figures in the sweep's folder are replaced.
    """
    import matplotlib
    import matplotlib.style
    from matplotlib.figure import Figure

    from cloudpad.style import PALETTE, style_path

    grid, folder = sweep.grid, sweep.folder
    for old in [*folder.glob("*.svg"), *folder.glob("*.png")]:
        old.unlink()
    x_name, others = grid.names[0], grid.names[1:]
    declared = notebook_parameters(grid.notebook)[x_name]
    numeric_x = declared.numeric and all(is_number(v) for v in grid.values[0])
    positions = {repr(v): i for i, v in enumerate(grid.values[0])}
    ok = [o for o in sweep.run.outcomes if o.status != "failed"]
    title = notebooks.title(grid.notebook)

    def x_of(value: Any) -> Any:
        return value if numeric_x else positions[repr(value)]

    series: dict[tuple, list[Outcome]] = {}
    for o in ok:
        series.setdefault(tuple(repr(o.parameters[n]) for n in others), []).append(o)
    files = []
    for name in names:
        with (
            matplotlib.style.context(style_path()),
            matplotlib.rc_context({"svg.hashsalt": "cloudpad"}),
        ):
            fig = Figure(figsize=(7, 4.2))
            ax = fig.add_subplot()
            for i, (key, runs) in enumerate(series.items()):
                points = sorted(
                    (x_of(o.parameters[x_name]), o.key_results[name])
                    for o in runs
                    if is_number(o.key_results.get(name))
                )
                if not points:
                    continue
                label = ", ".join(f"{n} = {v}" for n, v in zip(others, key, strict=True))
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, marker="o", color=PALETTE[i % len(PALETTE)], label=label or None)
            if not numeric_x:
                ax.set_xticks(range(len(grid.values[0])), [str(v) for v in grid.values[0]])
            ax.set_xlabel(axis_label(grid.notebook, x_name))
            ax.set_ylabel(name)
            ax.set_title(f"{name} against {x_name}\n{title}")
            if others:
                ax.legend(title="swept", fontsize="small")
            fig.tight_layout()
            for suffix in ("svg", "png"):
                path = folder / f"{name}.{suffix}"
                fig.savefig(path, metadata={"Date": None} if suffix == "svg" else None)
                files.append(path)
    return files
