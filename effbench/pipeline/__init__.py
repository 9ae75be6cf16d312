"""The stages in order: load sources, bring the analyses up to date, render the site.

Each function here is what one CLI command does, so the commands stay thin and the same work is
available from Python. The stages live in `ingest` (sources, loading, boards), `refresh` (the stored
analyses, DIoR), `flash_plans` (Flash from the command line), `site` (build and export) and `fit`
(multilingual scaling laws), on top of `common`; this module names what they offer.
"""

from effbench.pipeline.common import (
    DEFAULT_BOARDS,
    DEFAULT_DIOR,
    DEFAULT_FLASH,
    DEFAULT_PARAMETERS,
    MIN_MODELS,
    ResultsOnce,
    ResultsReader,
    board_reader,
    pick_board,
)
from effbench.pipeline.fit import MULTILINGUAL_COLUMNS, fit_multilingual
from effbench.pipeline.flash_plans import (
    PLAN_COLUMNS,
    PlannedItem,
    check_plan_out,
    flash_plan,
    flash_report,
    flash_simulate,
    flash_status,
    newest_models,
    simulate_flash,
    write_plan,
)
from effbench.pipeline.ingest import (
    UpdateReport,
    board_warnings,
    example_sources,
    expand_globs,
    refresh_boards,
    result_sources,
    update,
)
from effbench.pipeline.refresh import compute_dior, dior, refresh_dior, refresh_flash, refresh_ranking
from effbench.pipeline.site import (
    SITE_STAMP,
    TOKEN_COLUMNS,
    BuildReport,
    build,
    export_board,
    model_comparisons,
    site_plan,
    site_title,
    trend_analyses,
)

__all__ = [
    "DEFAULT_BOARDS", "DEFAULT_DIOR", "DEFAULT_FLASH", "DEFAULT_PARAMETERS", "MIN_MODELS", "MULTILINGUAL_COLUMNS",
    "PLAN_COLUMNS", "SITE_STAMP", "TOKEN_COLUMNS", "BuildReport", "PlannedItem", "ResultsOnce", "ResultsReader",
    "UpdateReport", "board_reader", "board_warnings", "build", "check_plan_out", "compute_dior", "dior",
    "example_sources", "expand_globs", "export_board", "fit_multilingual", "flash_plan", "flash_report",
    "flash_simulate", "flash_status", "model_comparisons", "newest_models", "pick_board", "refresh_boards",
    "refresh_dior", "refresh_flash", "refresh_ranking", "result_sources", "simulate_flash", "site_plan", "site_title",
    "trend_analyses", "update", "write_plan",
]
