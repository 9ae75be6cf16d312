"""`effbench fit multilingual`: scaling laws fitted to training runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from effbench.cli.common import fail, lazy_import, say
from effbench.errors import EffbenchError

pipeline = lazy_import("effbench.pipeline")
multilingual = lazy_import("effbench.multilingual")

app = typer.Typer(help="Fit scaling laws to training runs.", no_args_is_help=True, rich_markup_mode=None)


@app.command("multilingual")
def fit_multilingual(
    data: Annotated[Path, typer.Argument(help="Training runs: columns family, params, tokens, sampling_ratio, "
                                              "loss (CSV, TSV, Parquet or JSON lines).")],
    confidence: Annotated[float, typer.Option("--confidence", min=0.5, max=0.999,
                                              help="Coverage of the intervals.")] = 0.95,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fit as JSON.")] = False,
) -> None:
    """Fit L_i(N, D, p_i) = (E_i + A_i/N^alpha_i + B_i/D^beta_i) * p_i^(-gamma_i) per language family.

    Prints each family's parameters with intervals and the sampling ratios that minimise the summed
    normalised loss (arXiv 2410.12883).

    Examples:

      effbench fit multilingual runs.csv

      effbench fit multilingual runs.parquet --confidence 0.9 --json
    """
    try:
        fit = pipeline.fit_multilingual(data, confidence_level=confidence)
    except EffbenchError as error:
        raise fail(error) from None
    families = [{"family": f.family, "n_runs": f.n_runs, "rmse_log": f.rmse_log, "optimal_ratio": ratio,
                 "optimal_ratio_lo": lo, "optimal_ratio_hi": hi,
                 **{name: {"estimate": e, "lo": low, "hi": high}
                    for name, e, low, high in zip(multilingual.PARAMETERS, f.estimate, f.lo, f.hi, strict=True)}}
                for f, ratio, lo, hi in zip(fit.fits, fit.ratios, fit.ratios_lo, fit.ratios_hi, strict=True)]
    if as_json:
        typer.echo(json.dumps({"confidence_level": fit.confidence_level, "families": families}, indent=1))
        return
    for row in families:
        say(f"{row['family']} ({row['n_runs']} runs, rms log residual {row['rmse_log']:.4f}):")
        for name in multilingual.PARAMETERS:
            p = row[name]
            say(f"  {name:<6} {p['estimate']:>12.4g}  ({p['lo']:.4g} to {p['hi']:.4g})")
    say(f"Sampling ratios minimising the summed normalised loss ({fit.confidence_level:.0%} intervals):")
    for row in families:
        say(f"  {row['family']:<20} {row['optimal_ratio']:.3f}  "
                   f"({row['optimal_ratio_lo']:.3f} to {row['optimal_ratio_hi']:.3f})")
