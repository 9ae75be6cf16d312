"""Numbers and ranks as the site, the exports and the changes read them: one way of writing each, shared by
the layers below the renderer (`effbench.changes`, `effbench.export`) and the renderer itself."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def format_score(value: float | None) -> str:
    """Return a score as text: three decimals (scores on [0, 1]) or three significant figures."""
    if missing(value):
        return "–"
    if abs(value) < 10:
        return f"{value:.3f}"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def format_interval(lo: float | None, hi: float | None, formatter=format_score) -> str:
    if missing(lo) or missing(hi):
        return ""
    return f"{formatter(lo)}–{formatter(hi)}"


def format_rank(rank: int, lo: float | None, hi: float | None) -> str:
    """Return ``3 (2–4)``: the rank and its interval, or the rank alone where there is none."""
    if missing(lo) or missing(hi):
        return str(rank)
    return f"{rank} ({int(lo)}–{int(hi)})"
