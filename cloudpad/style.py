"""The book's look: one matplotlib style, a colour-blind-safe palette, SVG figures.

Call :func:`use` once at the top of an article.  It applies
``cloudpad.mplstyle`` (Okabe-Ito palette, light grid, fixed SVG hash salt so the
same figure gives the same bytes on every run) and asks the Jupyter inline
backend for SVG output.
"""

from __future__ import annotations

import os
from importlib import resources

import matplotlib as mpl
import matplotlib.pyplot as plt

#: Okabe & Ito (2008) colour-universal-design palette, in the style's cycle order.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)


def style_path() -> str:
    """Path of the ``cloudpad.mplstyle`` file shipped with the package."""
    return str(resources.files("cloudpad") / "cloudpad.mplstyle")


def use(figure_format: str = "svg") -> None:
    """Apply the book's matplotlib style and, inside Jupyter, the inline figure format.

    ``figure_format`` is ``"svg"`` (default, crisp and text-searchable) or
    ``"png"``.  Setting ``SOURCE_DATE_EPOCH`` (the runner does) keeps the SVG
    free of a creation date, which together with ``svg.hashsalt`` makes figures
    byte-for-byte reproducible.
    """
    if figure_format not in ("svg", "png"):
        raise ValueError(f"figure_format must be 'svg' or 'png', got {figure_format!r}")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    plt.style.use(style_path())
    mpl.rcParams["svg.hashsalt"] = "cloudpad"
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - matplotlib-inline ships with ipykernel
        return
    set_matplotlib_formats(figure_format)
