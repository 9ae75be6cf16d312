"""Loading: which sources to read, loading them, forming the boards and bringing their analyses up to date."""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from effbench import analysis_tables, boards, flash, formats, progress, store
from effbench.analysis_tables import AnalysisParameters, DiorParameters
from effbench.boards import Board, BoardSettings
from effbench.errors import EffbenchError, is_disk_full
from effbench.examples import DEFAULT_EXAMPLE, EXAMPLES, Example, get_example
from effbench.load import ColumnMap, Source, is_parquet
from effbench.pipeline.common import (
    DEFAULT_BOARDS,
    DEFAULT_DIOR,
    DEFAULT_FLASH,
    DEFAULT_PARAMETERS,
    ResultsOnce,
    first_line,
    loaded_hashes,
)
from effbench.pipeline.refresh import refresh_dior, refresh_flash, refresh_ranking
from effbench.store import LoadReport


@dataclass(frozen=True)
class UpdateReport:
    """What `update` did: the loads, and whether the ranking had to be recomputed."""

    loads: tuple[LoadReport, ...]
    recomputed: bool
    n_models: int
    warnings: tuple[str, ...] = ()  # about the loaded data as a whole (scenarios that mix scales, unrelated boards)
    boards: tuple[Board, ...] = ()
    board_items: tuple[int, ...] = ()  # items of each board's per-item scenarios


def result_sources(paths: Sequence[Path], columns: ColumnMap | None = None, *, format_name: str | None = None,
                   read_options: formats.ReadOptions | None = None, special: list[Path] | None = None,
                   globs: Sequence[tuple[str, Sequence[Path]]] = ()) -> list[Source]:
    """Return what to load from `paths` (files and folders) and the files each of `globs` (pattern,
    matches) matched: every unit a format recognises, plain result tables read with `columns`, harness
    files (HELM, lm-eval, ...) with `read_options`. Pipes, sockets and devices in the folders are skipped
    and added to `special`.

    The Parquet result tables found in one folder, or matched by one pattern, are one source, a results
    lake read in one scan (`effbench.load.stage_lake`), where folders named ``key=value`` give columns;
    a file named on its own is read alone, as it is."""
    options = read_options or formats.ReadOptions()
    columns = columns or ColumnMap()
    units = formats.discover([*paths, *(path for _, found in globs for path in found)], format_name, special)
    repeats = formats.plan_runs(units, options)
    labels = _lake_labels(units, paths, globs)
    lakes: dict[Path, list[Path]] = {}
    sources: list[Source | Path] = []  # a lake's place is held by its label until all its files are known
    for unit in units:
        label = labels.get(unit.path)
        if label is not None:
            if label not in lakes:
                lakes[label] = []
                sources.append(label)
            lakes[label].append(unit.path)
        elif unit.format == "table":
            sources.append(Source(unit.path, "long", columns))
        else:
            sources.append(Source(unit.path, "long", format=unit.format, read_options=repeats.get(unit.path, options)))
    return [Source(s, "long", columns, files=tuple(lakes[s])) if isinstance(s, Path) else s for s in sources]


def _lake_labels(units: Sequence[formats.Unit], paths: Sequence[Path], globs: Sequence[tuple[str, Sequence[Path]]]
                 ) -> dict[Path, Path]:
    """Return {file: the folder or pattern whose results lake it belongs to} for the Parquet tables found in
    a folder or matched by a pattern; a file named on its own belongs to none."""
    matched: dict[Path, Path] = {}
    for pattern, found in reversed(globs):  # a file two patterns match belongs to the first
        matched.update((path, Path(pattern)) for path in found)
    folders = [path for path in paths if path.is_dir()]
    labels = {}
    for unit in units:
        if unit.format == "table" and is_parquet(unit.path):
            label = next((folder for folder in folders if unit.path.is_relative_to(folder)), matched.get(unit.path))
            if label is not None:
                labels[unit.path] = label
    return labels


def expand_globs(patterns: Sequence[str]) -> list[tuple[str, tuple[Path, ...]]]:
    """Return each pattern (``--glob``) with the files it matches, sorted; hidden files are matched only by
    a pattern that names them. A pattern that matches no file is an error."""
    matched = []
    for pattern in patterns:
        paths = tuple(sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file()))
        if not paths:
            raise EffbenchError(f"--glob {pattern!r}: matches no file")
        matched.append((pattern, paths))
    return matched


def example_sources(example: Example) -> list[Source]:
    """Return the sources of a bundled example: its results and its model metadata."""
    return [
        Source(example.results_path, "long", credit=example.credit, license=example.license_name),
        Source(example.models_path, "models", credit=example.credit, license=example.license_name),
    ]


def update(
    db: Path,
    sources: Sequence[Source] = (),
    *,
    example: str | None = None,
    parameters: AnalysisParameters = DEFAULT_PARAMETERS,
    dior_parameters: DiorParameters = DEFAULT_DIOR,
    flash_config: flash.FlashConfig = DEFAULT_FLASH,
    default_example: bool = False,
    all_analyses: bool = True,
    lower_is_better: Sequence[str] = (),
    results: ResultsOnce | None = None,
    board_settings: BoardSettings | None = None,
) -> UpdateReport:
    """Load `sources` (or a bundled example) into the database at `db` and refresh the analyses.

    With `default_example`, an empty database gets the MMLU-Pro example. A database that did not
    exist before and could not be loaded is removed again, so a failed first call leaves nothing.
    Without `all_analyses` only the ranking (the `leaderboard` view) is refreshed, which takes a
    second; the reliability analysis and the Flash simulation wait for `effbench build`.
    `lower_is_better` names scenarios whose scores are better when lower (recorded in the database).
    `results` reads the results matrix for the analyses (default: once for this call, after loading).
    The results are ranked on boards (`board_settings`: declared boards and the missing policy; see
    `effbench.boards`), each analysed on its own.
    """
    if sources and example:
        raise EffbenchError("give either result files or --example, not both")
    existed = db.exists()
    loaded = False  # whether the load committed, for the message if the disk fills up afterwards
    try:
        with store.open_store(db) as con:
            with progress.stage("load"):
                reports = store.ingest(con, _sources_to_load(con, sources, example, default_example))
            loaded = True
            if not store.has_results(con):
                raise EffbenchError(_why_nothing_loaded(reports) or f"{db}: no results loaded yet; give result files "
                                    "or --example")
            if lower_is_better:
                store.declare_lower_is_better(con, lower_is_better)
            results = results or ResultsOnce()
            formed, warnings, sizes = _boards_and_warnings(con, board_settings or DEFAULT_BOARDS)
            recomputed = False
            for board in formed:
                reader = results.board(board)
                with progress.stage("ranking"):
                    recomputed = refresh_ranking(con, parameters, board, reader=reader,
                                                 rankings=results.rankings) or recomputed
                if all_analyses:
                    with progress.stage("reliability (DIoR)"):
                        recomputed = refresh_dior(con, dior_parameters, board, reader=reader) or recomputed
                    with progress.stage("Flash replay"):
                        recomputed = refresh_flash(con, flash_config, board, reader=reader) or recomputed
            n_models = con.execute("SELECT count(DISTINCT model) FROM rank_intervals").fetchone()[0]
    except BaseException as error:
        if not existed:
            # The file this call created: through a dangling symlink, its target; the link itself stays.
            created = db.resolve()
            for leftover in (created, created.with_name(created.name + ".wal"), db.with_name(db.name + ".wal")):
                if not leftover.is_symlink():
                    leftover.unlink(missing_ok=True)
        if is_disk_full(error):
            state = ("the database was not created" if not existed else
                     "the results were loaded; the analyses are brought up to date by the next build" if loaded
                     else "nothing was loaded; the database holds what it held before")
            raise EffbenchError(f"{db}: no space left on the device ({first_line(error)}); {state}") from None
        raise
    return UpdateReport(tuple(reports), recomputed, n_models, tuple(warnings), formed, tuple(sizes))


def _boards_and_warnings(con: duckdb.DuckDBPyConnection, settings: BoardSettings
                         ) -> tuple[tuple[Board, ...], list[str], list[int]]:
    """Return the boards, the warnings about the loaded data and each board's per-item items. Each takes a scan of
    every result (seconds at 100 million), so they are recorded with a digest of what they depend on (the loaded
    sources, the scenarios' directions, the board settings, effbench's analysis code) and read back while it holds:
    a rebuild of unchanged data scans nothing. The results matrix is never read here."""
    directions = con.execute("SELECT scenario, higher_is_better FROM scenario_directions ORDER BY ALL").fetchall()
    digest = hashlib.sha256(json.dumps([store.data_fingerprint(con), directions, repr(settings),
                                        store.analysis_version()], default=str).encode()).hexdigest()
    recorded = json.loads(store.get_meta(con, "boards_formed") or "{}")
    if recorded.get("digest") == digest:
        return store.stored_boards(con), list(recorded["warnings"]), list(recorded["board_items"])
    warnings = [*store.scale_warnings(con), *store.identical_model_warnings(con)]
    sets = analysis_tables.model_sets(con)
    formed = refresh_boards(con, sets, settings)
    warnings += board_warnings(formed, sorted(set().union(*sets.values())))
    sizes = [analysis_tables.board_item_count(con, board) for board in formed]
    store.set_meta(con, "boards_formed", json.dumps({"digest": digest, "warnings": warnings, "board_items": sizes}))
    return formed, warnings, sizes


def refresh_boards(con: duckdb.DuckDBPyConnection, model_sets: Mapping[str, frozenset[str]],
                   settings: BoardSettings = DEFAULT_BOARDS) -> tuple[Board, ...]:
    """Return the boards of the loaded results under `settings`, stored in the database (see `effbench.boards`):
    `model_sets` are, per scenario, the models with a score there (`analysis_tables.model_sets`)."""
    examples = {e.results_sha256: e for e in EXAMPLES.values()}

    def origin(scenario: str) -> str:
        format_name, sha256 = con.execute(
            "SELECT coalesce(s.format, 'table'), s.sha256 FROM (SELECT source_id FROM scores WHERE scenario = ?"
            " LIMIT 1) JOIN sources AS s USING (source_id)", [scenario]).fetchone()
        return examples[sha256].name if sha256 in examples else format_name

    try:
        formed = boards.form_boards(dict(model_sets), declared=settings.declared,
                                    tags=store.scenario_tags(con), origin_of=origin,
                                    origin_titles={e.name: e.title for e in EXAMPLES.values()},
                                    missing=settings.missing)
    except ValueError as error:
        raise EffbenchError(f"effbench.toml: {error}") from None
    store.save_boards(con, formed)
    return formed


def board_warnings(formed: Sequence[Board], models: Sequence[str]) -> list[str]:
    """Return what a user should know about the boards: results that share no scenario, and model names
    that differ only by case, spacing or an organisation prefix (one model under two names?)."""
    warnings = []
    from_data = [b.name for b in formed if not b.declared]
    if len(formed) > 1 and from_data:  # declared boards are the maintainer's choice: no surprise to warn of
        warnings.append(f"the results form {len(formed)} boards, ranked apart: {', '.join(b.name for b in formed)}"
                        + (f" (formed from the data, since their scenarios were evaluated on different models: "
                           f"{', '.join(from_data)})" if len(from_data) < len(formed) else
                           "; their scenarios were evaluated on different models"))
    for names in boards.similar_model_names(models):
        warnings.append(f"models {', '.join(repr(n) for n in names)} differ only by case, spacing or an "
                        "organisation prefix: if they are one model, load them under one name")
    return warnings


def _why_nothing_loaded(reports: Sequence[LoadReport]) -> str | None:
    """Return one line with what the loads said about why they held no results, if they said anything."""
    reasons = [f"{report.path}: {'; '.join(report.notes)}" for report in reports
               if not report.already_loaded and report.notes]
    return "nothing loaded: " + " | ".join(reasons) if reasons else None


def _sources_to_load(
    con: duckdb.DuckDBPyConnection, sources: Sequence[Source], example: str | None, default_example: bool
) -> list[Source]:
    if sources:
        return list(sources)
    if example is None and default_example and not store.has_results(con):
        example = DEFAULT_EXAMPLE
    if example is None:
        return []
    chosen = get_example(example)
    if store.has_results(con) and chosen.results_sha256 not in loaded_hashes(con):
        raise EffbenchError(
            f"the database already holds other results; build the {example} example into its own "
            "database with --db"
        )
    return example_sources(chosen)
