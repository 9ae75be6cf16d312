"""Tables for papers and other tools: a board's leaderboard with its rank intervals, as Markdown, LaTeX
(booktabs, with a caption that says what the intervals are), CSV, or Every Eval Ever aggregate records
(one per model, with each score's bootstrap interval in ``uncertainty.confidence_interval``).

Scores are as measured: a lower-is-better scenario (ranked on its negated scores) is given back on its
own scale, with ``lower_is_better`` in the Every Eval Ever record.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from effbench import __version__
from effbench.boards import Board
from effbench.formatting import format_rank, format_score, missing
from effbench.urls import unique_slugs

FORMATS = ("markdown", "latex", "csv", "eee")
EEE_SCHEMA_VERSION = "0.3.0"
ORGANISATION_COLUMNS = ("organization", "organisation", "org", "developer")


@dataclass(frozen=True)
class BoardTable:
    """A board's leaderboard for export: one row per ranked model, its overall and per-scenario results."""

    board: Board
    title: str
    overall: pd.DataFrame  # model, rank, rank_lo, rank_hi, score, score_lo, score_hi, partial
    scenarios: pd.DataFrame  # model, scenario, score, score_lo, score_hi, n_items (on each scenario's own scale)
    lower_is_better: frozenset[str]
    confidence_level: float
    n_resamples: int
    metadata: pd.DataFrame  # the models table, for developer and open weights
    ranges: dict[str, tuple[float, float]]  # each scenario's score range: [0, 1] where every score lies there


def board_table(con: duckdb.DuckDBPyConnection, board: Board, title: str) -> BoardTable:
    """Return `board`'s stored leaderboard, with each lower-is-better scenario back on its own scale."""
    overall = con.execute("SELECT model, rank, rank_lo, rank_hi, score, score_lo, score_hi, partial FROM leaderboard"
                          " WHERE board = ? ORDER BY rank, model", [board.name]).df()
    scenarios = con.execute("SELECT model, scenario, score, score_lo, score_hi, n_items FROM scenario_intervals"
                            " WHERE board = ? ORDER BY scenario, model", [board.name]).df()
    lower = frozenset(r[0] for r in con.execute(
        "SELECT scenario FROM scenarios WHERE higher_is_better IS FALSE").fetchall()) & set(board.scenarios)
    flip = scenarios["scenario"].isin(lower)
    scenarios.loc[flip, ["score", "score_lo", "score_hi"]] = -scenarios.loc[flip, ["score", "score_hi", "score_lo"]
                                                                            ].to_numpy()
    analysis = con.execute("SELECT confidence_level, n_resamples FROM analyses WHERE analysis = 'rank_intervals'"
                           " AND board = ?", [board.name]).fetchone()
    ranges = {}
    for scenario, low, high in con.execute("SELECT scenario, min(score), max(score) FROM scores WHERE score IS NOT"
                                           " NULL AND scenario IN (SELECT scenario FROM boards WHERE board = ?)"
                                           " GROUP BY scenario", [board.name]).fetchall():
        ranges[scenario] = (0.0, 1.0) if low >= 0 and high <= 1 else (float(low), float(high))
    return BoardTable(board, title, overall, scenarios, lower, float(analysis[0]), int(analysis[1]),
                      con.execute("SELECT * FROM models").df(), ranges)


def _overall_range(table: BoardTable) -> tuple[float, float]:
    """Return the range of the overall score: the mean of the scenarios' ranges, a lower-is-better one negated."""
    bounds = [(-high, -low) if s in table.lower_is_better else (low, high)
              for s, (low, high) in table.ranges.items()]
    return (sum(b[0] for b in bounds) / len(bounds), sum(b[1] for b in bounds) / len(bounds))


def _columns(table: BoardTable) -> tuple[list[str], list[list[str]]]:
    """Return the header and the rows as text: rank with interval, model, score with interval, each scenario."""
    by_model = {(r.model, r.scenario): r for r in table.scenarios.itertuples(index=False)}
    names = [f"{s} (lower is better)" if s in table.lower_is_better else s for s in table.board.scenarios]
    header = ["Rank", "Model", "Score", *names]
    rows = []
    for r in table.overall.itertuples(index=False):
        cells = [format_rank(int(r.rank), r.rank_lo, r.rank_hi), r.model + (" (partial)" if r.partial else ""),
                 _with_interval(r.score, r.score_lo, r.score_hi)]
        for scenario in table.board.scenarios:
            cell = by_model.get((r.model, scenario))
            cells.append("–" if cell is None or missing(cell.score) else _with_interval(cell.score, cell.score_lo,
                                                                                        cell.score_hi))
        rows.append(cells)
    return header, rows


def _with_interval(score: float, lo: float | None, hi: float | None) -> str:
    if missing(lo) or missing(hi):
        return format_score(score)
    return f"{format_score(score)} ({format_score(lo)}–{format_score(hi)})"


def _caption(table: BoardTable) -> str:
    level = f"{table.confidence_level:.0%}"
    return (f"{table.title}: rank and score of each model with its {level} interval, from a paired Bayesian "
            f"bootstrap over items ({table.n_resamples:,} resamples). Rank 1 is best; \"3 (2–4)\" means the "
            f"data cannot tell the model from those at places 2 to 4.")


def to_markdown(table: BoardTable) -> str:
    """Return the board as a Markdown table under its caption."""
    header, rows = _columns(table)
    escape = lambda text: text.replace("|", "\\|")  # noqa: E731 - one cell's escaping
    lines = [_caption(table), "", "| " + " | ".join(map(escape, header)) + " |",
             "|" + "|".join("---:" if i in (0, 2) else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(map(escape, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "–": "--"}


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(ch, ch) for ch in text)


def to_latex(table: BoardTable) -> str:
    """Return the board as a LaTeX table (booktabs) with its caption and a label."""
    header, rows = _columns(table)
    spec = "r" + "l" + "r" * (len(header) - 2)
    lines = [r"% needs \usepackage{booktabs}", r"\begin{table}", r"\centering",
             rf"\caption{{{latex_escape(_caption(table))}}}", rf"\label{{tab:{table.board.slug}}}",
             rf"\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(map(latex_escape, header)) + r" \\", r"\midrule"]
    lines += [" & ".join(map(latex_escape, row)) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def to_csv(table: BoardTable) -> str:
    """Return the board as CSV: one row per model, its rank, score and each scenario's score with their intervals
    (numbers, not text), the scenarios on their own scale."""
    wide = table.overall.copy()
    for scenario in table.board.scenarios:
        part = table.scenarios[table.scenarios["scenario"] == scenario].set_index("model")
        for column in ("score", "score_lo", "score_hi"):
            wide[f"{scenario}:{column}"] = wide["model"].map(part[column])
    handle = io.StringIO()
    wide.to_csv(handle, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return handle.getvalue()


def to_eee(table: BoardTable) -> dict[str, dict]:
    """Return an Every Eval Ever aggregate record (schema 0.3.0) per model, keyed by a file name."""
    stamp = os.environ.get("SOURCE_DATE_EPOCH") or str(int(time.time()))
    meta = table.metadata.set_index("model").to_dict("index") if not table.metadata.empty else {}
    slugs = unique_slugs(table.overall["model"])
    by_model: dict[str, list] = {}
    for r in table.scenarios.itertuples(index=False):
        by_model.setdefault(r.model, []).append(r)
    records = {}
    for r in table.overall.itertuples(index=False):
        info = meta.get(r.model, {})
        open_weights = info.get("open_weights")
        developer = next((info[c] for c in ORGANISATION_COLUMNS if not missing(info.get(c))), None)
        results = [_eee_result(f"{table.board.name}.overall", table.board.name, r.score, r.score_lo, r.score_hi,
                               table, lower_is_better=False, score_range=_overall_range(table),
                               details={"rank": str(int(r.rank)), "rank_interval": format_rank(int(r.rank), r.rank_lo,
                                                                                                 r.rank_hi),
                                        "aggregation": "macro mean of scenario means",
                                        "partial": str(bool(r.partial)).lower()})]
        results += [_eee_result(f"{table.board.name}.{s.scenario}", s.scenario, s.score, s.score_lo, s.score_hi,
                                table, lower_is_better=s.scenario in table.lower_is_better,
                                score_range=table.ranges[s.scenario],
                                details={"n_items": str(int(s.n_items))})
                    for s in by_model.get(r.model, []) if not missing(s.score)]
        records[f"{table.board.slug}__{slugs[r.model]}.json"] = {
            "schema_version": EEE_SCHEMA_VERSION,
            "evaluation_id": f"{table.board.name}/{r.model}/{stamp}",
            "retrieved_timestamp": stamp,
            "source_metadata": {"source_name": table.title, "source_type": "documentation",
                                "source_organization_name": "unknown", "evaluator_relationship": "third_party",
                                "additional_details": {"board": table.board.name}},
            "eval_library": {"name": "effbench", "version": __version__},
            "model_info": {"name": r.model, "id": r.model,
                           **({"developer": str(developer)} if developer is not None else {}),
                           "additional_details": {
                               "deployment_type": "unknown",
                               "model_availability": ("unknown" if missing(open_weights) else
                                                      "open_weights" if str(open_weights).lower() in ("true", "1",
                                                                                                       "yes")
                                                      else "closed_weights")}},
            "evaluation_results": results,
        }
    return records


def _eee_result(result_id: str, name: str, score: float, lo: float | None, hi: float | None, table: BoardTable, *,
                lower_is_better: bool, score_range: tuple[float, float], details: dict[str, str]) -> dict:
    uncertainty = {"num_bootstrap_samples": table.n_resamples}
    if not (missing(lo) or missing(hi)):
        uncertainty["confidence_interval"] = {"lower": float(lo), "upper": float(hi),
                                              "confidence_level": table.confidence_level,
                                              "method": "percentile of a paired Bayesian bootstrap over items"}
    return {"evaluation_result_id": result_id, "evaluation_name": name,
            "source_data": {"dataset_name": name, "source_type": "other"},
            "metric_config": {"metric_id": f"effbench.{result_id}", "lower_is_better": lower_is_better,
                              "score_type": "continuous", "min_score": score_range[0], "max_score": score_range[1]},
            "score_details": {"score": float(score), "details": details, "uncertainty": uncertainty}}


def export_text(table: BoardTable, to: str) -> str:
    """Return `table` as Markdown, LaTeX or CSV (`to`)."""
    return {"markdown": to_markdown, "latex": to_latex, "csv": to_csv}[to](table)


def write_eee(table: BoardTable, out: Path) -> list[Path]:
    """Write one Every Eval Ever record per model into the folder `out`; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, record in to_eee(table).items():
        (out / name).write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(out / name)
    return written
