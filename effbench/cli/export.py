"""`effbench export`: a board's leaderboard for a paper or another tool."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from effbench.cli.common import BoardOption, DbOption, fail, lazy_import, say
from effbench.errors import EffbenchError

pipeline = lazy_import("effbench.pipeline")


class ExportFormat(StrEnum):
    markdown = "markdown"
    latex = "latex"
    csv = "csv"
    eee = "eee"


def export(
    to: Annotated[ExportFormat, typer.Option("--to", help="markdown, latex (booktabs), csv, or eee (Every Eval "
                                             "Ever records, one per model).")],
    out: Annotated[Path | None, typer.Option("--out", help="File to write (eee: a folder); default: print.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title for the caption and records.")] = None,
    db: DbOption = Path("effbench.duckdb"),
    board: BoardOption = None,
) -> None:
    """Write a board's leaderboard with its rank and score intervals, for a paper or another tool.

    Markdown and LaTeX carry a caption that says what the intervals are; CSV has one row per model with
    every scenario's score and interval; eee writes Every Eval Ever aggregate records (schema 0.3.0) with
    each score's bootstrap interval.

    Examples:

      effbench export --to markdown

      effbench export --to latex --out leaderboard.tex --title "My benchmark"

      effbench export --to eee --out records/ --board helm-bbq
    """
    try:
        text, written = pipeline.export_board(db, to.value, board_name=board, out=out, title=title)
    except EffbenchError as error:
        raise fail(error) from None
    if written:
        say(f"wrote {len(written):,} file{'s' if len(written) != 1 else ''} to {out}", err=True)
    else:
        typer.echo(text, nl=False)
