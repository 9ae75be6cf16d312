"""The `effbench` command: a thin face over `effbench.pipeline`.

Each group of commands has its module (`build`, `load`, `dior`, `export`, `flash`, `fit`, `publish`);
this one registers them, in the order `effbench --help` lists them, and runs the command line.
"""

from __future__ import annotations

from typing import Annotated

import typer

from effbench import __version__
from effbench.cli import build, check, dior, export, fit, flash, load, publish
from effbench.cli.common import Debug, say

app = typer.Typer(
    name="effbench",
    help="Honest, efficient language-model leaderboards: rank intervals and a static site from raw results.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
for command in (build.build, load.ingest, check.check, load.synth, dior.dior, export.export, publish.publish,
                publish.init, publish.serve):
    app.command()(command)
app.add_typer(flash.app, name="flash")
app.add_typer(fit.app, name="fit")


def _version(value: bool) -> None:
    if value:
        say(f"effbench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of any error.")] = False,
) -> None:
    """effbench: rank intervals, reliability and a static leaderboard from raw evaluation results."""
    Debug.on = debug


def main() -> None:
    """Run the command line; an unexpected error is one line (its traceback with --debug)."""
    try:
        app()
    except Exception as error:  # noqa: BLE001 - the last line of defence of the command line
        if Debug.on:
            raise
        reason = str(error).splitlines()[0] if str(error) else ""
        say(f"effbench: internal error: {type(error).__name__}: {reason} (run with --debug to see where)",
                   err=True)
        raise SystemExit(2) from None
