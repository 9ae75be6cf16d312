"""OpenEval item-level evaluation data (schema v0.1.0): item JSON/JSONL files and the Parquet tables.

An OpenEval item (`item_schema.json` of open-eval/OpenEval) carries `item_id`,
`item_metadata.source.benchmark_name` and `responses[]`, each with `response_id`, `model.name`
(and `model.size`) and `scores[{metric: {name}, value}]`. The Hugging Face release splits them into
three Parquet tables, `bench`, `item` and `response` (nested fields kept as structs, a few as JSON
strings); a folder holding them (``bench/``, ``item/``, ``response/`` or the files side by side) is
one unit, read with DuckDB. A ``.json`` (a list of items, or one item) or ``.jsonl`` file (one item
per line) is a unit too.

Scenario = the benchmark name, model = `model.name`, item = `item_id`. A model can answer an item
several times (adaptations, samples): `response_id` is ``<item_id>_<model>_<n>``, and ``n`` becomes
the key column ``response``, so an item's score is the mean over a model's responses. One metric
per benchmark: the first one its responses list (the most common first metric in the tables), or
the one named with ``--metric BENCHMARK=NAME``; the others are named in the load's notes. Booleans
count as 1/0; a response without that metric is not evaluated (NaN).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import ITEM_COLUMNS, FormatRead, ReadOptions, as_number, parquet_columns
from effbench.formats.shapes import LIST, OBJECT, SCALAR
from effbench.load import duckdb_path

NAME = "openeval"
DESCRIPTION = "OpenEval items (JSON/JSONL, schema v0.1.0) and its Parquet tables (bench, item, response)"

_TABLE_FOLDERS = {"bench", "item", "items", "response", "responses"}
_RESPONSE_ID = re.compile(r"^(?P<item>.+)_(?P<model>[^_]+)_(?P<n>\d+)$")
_HEAD_CHARS = 1 << 18  # item contents come first and can be long
_COLUMNS = [*ITEM_COLUMNS, "response", "metric", "file"]


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return OpenEval item files, and the folders holding OpenEval response tables, under `root`."""
    units: dict[Path, None] = {}
    for path in files:
        if path.suffix in (".json", ".jsonl") and _is_item_file(path):
            units[path] = None
        elif path.suffix == ".parquet" and _table_kind(path) == "response":
            folder = path.parent
            if folder.name.lower() in _TABLE_FOLDERS and folder != root:
                folder = folder.parent
            units[folder] = None
    return list(units)


def _is_item_file(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            if path.suffix == ".jsonl":  # an item per line: the first line tells
                head = shapes.first_line(handle)
                first = shapes.probe_json(head)
                if first is not None:
                    return isinstance(first, dict) and {"item_id", "item_metadata", "responses"} <= first.keys()
                # a first line no parser takes (nested too deep, cut short) is claimed if it starts as an item
                # does, so that the read says what is wrong with it
            else:
                head = handle.read(_HEAD_CHARS)
    except OSError:
        return False
    # the first key is an item's own (item_id as OpenEval writes it, item_content when keys are sorted)
    return (re.match(r'\s*\[?\s*\{\s*"item_(?:id|content|metadata)"\s*:', head) is not None
            and re.search(r'"item_id"\s*:', head) is not None and '"item_metadata"' in head)


def _table_kind(path: Path) -> str | None:
    """Return which OpenEval table a Parquet file is (``response``, ``item``, ``bench``), from its columns."""
    columns = set(parquet_columns(path) or ())
    if {"response_id", "model", "scores"} <= columns:
        return "response"
    if {"item_id", "item_metadata"} <= columns:
        return "item"
    if "benchmark_name" in columns:
        return "bench"
    return None


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Read an OpenEval item file, or a folder of OpenEval Parquet tables."""
    if unit.is_dir():
        return _read_tables(unit, options)
    return _read_items(unit, options)


# -- item JSON / JSONL ------------------------------------------------------------------------------


def _iter_items(unit: Path) -> Iterator[tuple[str, object]]:
    """Yield (where, item) for each item of a JSON lines (``line N``) or JSON file (``item N``)."""
    if unit.suffix == ".jsonl":
        yield from ((f"{unit}: line {number}", item) for number, item in shapes.json_lines(unit))
        return
    data = shapes.load_json(unit)
    for position, item in enumerate(data if isinstance(data, list) else [data]):
        yield f"{unit}: item {position}", item


def _read_items(unit: Path, options: ReadOptions) -> FormatRead:
    columns: dict[str, list] = {name: [] for name in ("model", "scenario", "item_id", "score", "response")}
    chosen: dict[str, str] = {}
    others: dict[str, dict[str, None]] = {}
    sizes: dict[str, str] = {}
    tags: dict[str, str] = {}
    items = 0
    for where, raw in _iter_items(unit):
        item = shapes.entry(raw, where)
        item_id = str(shapes.field(item, "item_id", SCALAR, where))
        if not item_id:
            raise EffbenchError(f"{where}: field 'item_id' is empty")
        source = ((item.get("item_metadata") or {}).get("source") or {}) if isinstance(
            item.get("item_metadata"), dict) else {}
        # `source` is an object naming the benchmark, or (OpenEval's HELM converter) the name itself
        benchmark = source.get("benchmark_name") if isinstance(source, dict) else source
        if not benchmark or not isinstance(benchmark, str):
            raise EffbenchError(f"{where}: item {item_id!r} lacks 'item_metadata.source.benchmark_name' "
                                "(or 'item_metadata.source' as the benchmark's name)")
        if isinstance(source, dict) and isinstance(source.get("benchmark_tags"), list):
            tags.setdefault(benchmark, ", ".join(str(t) for t in source["benchmark_tags"]))
        items += 1
        for position, response in enumerate(shapes.field(item, "responses", LIST, where, default=[], nullable=True)):
            response_at = f"{where}: responses entry {position}"
            response = shapes.entry(response, response_at)
            described = shapes.field(response, "model", OBJECT, response_at)
            model = shapes.field(described, "name", SCALAR, f"{response_at}: model")
            if not model:
                raise EffbenchError(f"{response_at}: field 'model.name' is empty")
            size = shapes.field(described, "size", SCALAR, f"{response_at}: model", default=None, nullable=True)
            if size not in (None, ""):
                sizes.setdefault(str(model), str(size))
            values = _score_values(response, response_at)
            if values:
                names = list(values)
                if benchmark not in chosen:
                    wanted = options.metric_for(benchmark)
                    if benchmark not in options.metrics and wanted not in names:
                        wanted = None  # a metric asked for every benchmark ("*") applies where it exists
                    chosen[benchmark] = wanted or names[0]
                others.setdefault(benchmark, {}).update(dict.fromkeys(names))
            columns["model"].append(str(model))
            columns["scenario"].append(benchmark)
            columns["item_id"].append(item_id)
            columns["score"].append(values.get(chosen.get(benchmark), math.nan))
            response_id = shapes.field(response, "response_id", SCALAR, response_at, default=None, nullable=True)
            columns["response"].append(_response_key(str(response_id or ""), item_id, position))
    for benchmark, metric in chosen.items():
        if benchmark in options.metrics and metric not in others.get(benchmark, {}):
            raise EffbenchError(f"{unit}: benchmark {benchmark!r} has no metric {metric!r} "
                                f"(it has: {', '.join(others.get(benchmark, {}))})")
    frame = pd.DataFrame(columns)
    frame["metric"] = frame["scenario"].map(chosen)
    frame["file"] = unit.name
    notes = _metric_notes(chosen, others, options)
    missing = int(frame["score"].isna().sum())
    if missing:
        notes.append(f"{unit.name}: {missing} response(s) have no score for their benchmark's metric "
                     "and count as not evaluated")
    scenarios = pd.DataFrame({"scenario": list(chosen), "metric": list(chosen.values()),
                              "tags": [tags.get(b) for b in chosen]})
    return FormatRead(format=NAME, unit=unit, files=(unit,), items=frame.reindex(columns=_COLUMNS),
                      keys=("response",), scenarios=scenarios, models=_models_frame(frame["model"], sizes),
                      runs=1, notes=tuple(notes), options={"layout": "items", "items": items})


def _score_values(response: dict, where: str) -> dict[str, float]:
    """Return {metric name: value} of one response, in the order listed."""
    values: dict[str, float] = {}
    for position, score in enumerate(shapes.field(response, "scores", LIST, where, default=[], nullable=True)):
        score_at = f"{where}: scores entry {position}"
        score = shapes.entry(score, score_at)
        metric = shapes.field(score, "metric", OBJECT, score_at)
        name = shapes.field(metric, "name", SCALAR, f"{score_at}: metric")
        values.setdefault(str(name), as_number(shapes.loose(score, "value", score_at)))
    return values


def _response_key(response_id: str, item_id: str, position: int) -> str:
    """Return the response's number ``n`` from ``<item_id>_<model>_<n>``, else its position in the item."""
    match = _RESPONSE_ID.match(response_id)
    if match and match["item"] == item_id:
        return match["n"]
    return str(position)


def _metric_notes(chosen: dict[str, str], others: dict[str, dict], options: ReadOptions) -> list[str]:
    """Name the metric taken where a benchmark has others, one line for benchmarks alike."""
    alike: dict[tuple, list[str]] = {}
    for benchmark, metric in chosen.items():
        rest = tuple(name for name in others.get(benchmark, {}) if name != metric)
        how = "as asked" if options.metric_for(benchmark) == metric else "the first listed"
        if rest:
            alike.setdefault((metric, how, rest), []).append(benchmark)
    notes = []
    for (metric, how, rest), benchmarks in alike.items():
        named = ", ".join(benchmarks[:3]) + (f" and {len(benchmarks) - 3} more" if len(benchmarks) > 3 else "")
        notes.append(f"{named}: took metric {metric!r} ({how}); also present: {', '.join(rest)} "
                     f"(choose with --metric {benchmarks[0]}=NAME)")
    return notes


# -- the Parquet tables ----------------------------------------------------------------------------


def _read_tables(unit: Path, options: ReadOptions) -> FormatRead:
    tables: dict[str, list[str]] = {"response": [], "item": [], "bench": []}
    for path in sorted(unit.rglob("*.parquet")):
        if not any(part.startswith(".") for part in path.relative_to(unit).parts):
            kind = _table_kind(path)
            if kind:
                tables[kind].append(str(path))
    if not tables["response"]:
        raise EffbenchError(f"{unit}: no OpenEval response table (Parquet with response_id, model, scores)")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        return _query_tables(con, unit, tables, options)
    except duckdb.Error as error:
        raise EffbenchError(f"{unit}: the OpenEval tables cannot be read: {str(error).splitlines()[0]}") from None
    finally:
        con.close()


def _column_types(con: duckdb.DuckDBPyConnection, files: list[str]) -> dict[str, str]:
    rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?, union_by_name = true)", [_escaped(files)]).fetchall()
    return {row[0]: row[1] for row in rows}


def _escaped(files: list[str]) -> list[str]:
    """Return the paths as DuckDB's readers must be given them to read each as the one file it names."""
    return [duckdb_path(Path(path)) for path in files]


def _field(column: str, type_: str, *path: str) -> str:
    """SQL for a nested field of a struct column, or of a column holding the same object as JSON."""
    if type_.upper().startswith("STRUCT"):
        return ".".join([column, *(f'"{p}"' for p in path)])
    return f"json_extract_string({column}, '$.{'.'.join(path)}')"


def _source_benchmark(item_metadata_type: str) -> str:
    """SQL for an item's benchmark: `item_metadata.source.benchmark_name`, or `item_metadata.source` where
    that is the benchmark's name itself (the shape OpenEval's HELM converter writes)."""
    upper = item_metadata_type.upper()
    if upper.startswith("STRUCT"):
        source_is_struct = re.search(r'\bSOURCE"?\s+STRUCT', upper) is not None
        return _field("item_metadata", item_metadata_type, "source", *(("benchmark_name",) if source_is_struct else ()))
    return ("CASE json_type(item_metadata, '$.source') WHEN 'VARCHAR' THEN json_extract_string(item_metadata, "
            "'$.source') ELSE json_extract_string(item_metadata, '$.source.benchmark_name') END")


def _query_tables(con: duckdb.DuckDBPyConnection, unit: Path, tables: dict[str, list[str]],
                  options: ReadOptions) -> FormatRead:
    notes: list[str] = []
    types = _column_types(con, tables["response"])
    model_type, scores_type = types["model"], types["scores"].upper()
    model_name = _field("model", model_type, "name")
    model_size = _field("model", model_type, "size") if "SIZE" in model_type.upper() or not model_type.upper(
    ).startswith("STRUCT") else "NULL"
    if scores_type.startswith("STRUCT") and not scores_type.endswith("[]"):
        # the Hugging Face `Sequence` of dicts: a struct of lists {metric: [...], value: [...]}
        metric_list, value_list = "list_transform(scores.metric, lambda m: m.name)", "scores.value"
    elif scores_type.endswith("[]"):
        metric_list = "list_transform(scores, lambda s: s.metric.name)"
        value_list = "list_transform(scores, lambda s: s.value)"
    else:
        raise EffbenchError(f"{unit}: the response table's 'scores' column has an unknown type {types['scores']}")
    item_sql = ("CAST(item_id AS VARCHAR)" if "item_id" in types
                else "regexp_extract(response_id, '^(.+)_[^_]+_[0-9]+$', 1)")
    key_sql = "regexp_extract(response_id, '_([0-9]+)$', 1)"
    con.execute(
        f"CREATE TEMP TABLE scored AS SELECT response_id, CAST({model_name} AS VARCHAR) AS model,"
        f" CAST({model_size} AS VARCHAR) AS size, {item_sql} AS item_id, {key_sql} AS response,"
        f" parse_filename(filename) AS file, unnest({metric_list}) AS metric,"
        f" unnest(CAST({value_list} AS DOUBLE[])) AS score,"
        f" unnest(range(1, len({value_list}) + 1)) AS position"
        " FROM read_parquet(?, union_by_name = true, filename = true)",
        [_escaped(tables["response"])],
    )
    unparsed = con.execute("SELECT count(DISTINCT response_id) FROM scored WHERE item_id = ''").fetchone()[0]
    if unparsed:
        notes.append(f"{unit.name}: {unparsed} response id(s) are not <item_id>_<model>_<n>; "
                     "each is its own item")
        con.execute("UPDATE scored SET item_id = response_id, response = '0' WHERE item_id = ''")
    _benchmark_table(con, unit, tables, notes)
    con.execute("CREATE TEMP TABLE with_bench AS SELECT s.*, b.benchmark AS scenario FROM scored AS s"
                " JOIN item_bench AS b USING (item_id)")
    # One metric per benchmark: the user's, else the most common first-listed one.
    firsts = con.execute(
        "SELECT scenario, metric, count(*) AS n FROM with_bench WHERE position = 1 GROUP BY ALL"
        " ORDER BY scenario, n DESC, metric").fetchall()
    present = dict(con.execute("SELECT scenario, list(DISTINCT metric ORDER BY metric) FROM with_bench"
                               " GROUP BY scenario").fetchall())
    chosen: dict[str, str] = {}
    for scenario, metric, _ in firsts:
        chosen.setdefault(scenario, metric)
    for scenario in present:
        wanted = options.metric_for(scenario)
        if wanted is not None and wanted in present[scenario]:
            chosen[scenario] = wanted
        elif wanted is not None and scenario in options.metrics:
            raise EffbenchError(f"{unit}: benchmark {scenario!r} has no metric {wanted!r} "
                                f"(it has: {', '.join(present[scenario])})")
    others = {s: dict.fromkeys(m for m in present[s] if m != chosen.get(s)) for s in present}
    notes.extend(_metric_notes(chosen, others, options))
    con.execute("CREATE TEMP TABLE chosen (scenario VARCHAR, metric VARCHAR)")
    if chosen:
        con.executemany("INSERT INTO chosen VALUES (?, ?)", list(chosen.items()))
    # Every response of a benchmark gives one row; one without the chosen metric is not evaluated.
    items = con.execute(
        "SELECT w.model, w.scenario, w.item_id, max(w.score) FILTER (WHERE w.metric = c.metric) AS score,"
        " w.response, c.metric AS metric, any_value(w.file) AS file FROM with_bench AS w JOIN chosen AS c"
        " USING (scenario) GROUP BY w.model, w.scenario, w.item_id, w.response, c.metric, w.response_id"
        " ORDER BY w.scenario, w.model, w.item_id, w.response"
    ).df()
    missing = int(items["score"].isna().sum())
    if missing:
        notes.append(f"{unit.name}: {missing} response(s) have no score for their benchmark's metric "
                     "and count as not evaluated")
    sizes = dict(con.execute("SELECT model, any_value(size) FROM scored WHERE size IS NOT NULL AND size <> ''"
                             " GROUP BY model").fetchall())
    scenarios = con.execute(
        "SELECT c.scenario, c.metric, b.tags FROM chosen AS c LEFT JOIN bench_tags AS b ON b.benchmark = c.scenario"
        " ORDER BY c.scenario").df()
    files = tuple(Path(p) for kind in ("bench", "item", "response") for p in tables[kind])
    return FormatRead(format=NAME, unit=unit, files=files, items=items.reindex(columns=_COLUMNS),
                      keys=("response",), scenarios=scenarios, models=_models_frame(items["model"], sizes),
                      runs=len(tables["response"]), notes=tuple(notes),
                      options={"layout": "parquet", "tables": {k: len(v) for k, v in tables.items()}})


def _benchmark_table(con: duckdb.DuckDBPyConnection, unit: Path, tables: dict[str, list[str]],
                     notes: list[str]) -> None:
    """Create `item_bench` (item_id -> benchmark) and `bench_tags` (benchmark -> tags)."""
    if tables["bench"]:
        bench_types = _column_types(con, tables["bench"])
        tags = ("array_to_string(benchmark_tags, ', ')" if bench_types.get("benchmark_tags", "").endswith("[]")
                else "CAST(benchmark_tags AS VARCHAR)" if "benchmark_tags" in bench_types else "NULL")
        con.execute(f"CREATE TEMP TABLE bench_tags AS SELECT benchmark_name AS benchmark, any_value({tags}) AS tags"
                    " FROM read_parquet(?, union_by_name = true) GROUP BY benchmark_name",
                    [_escaped(tables["bench"])])
    else:
        con.execute("CREATE TEMP TABLE bench_tags (benchmark VARCHAR, tags VARCHAR)")
    if tables["item"]:
        types = _column_types(con, tables["item"])
        name = _source_benchmark(types["item_metadata"])
        con.execute(f"CREATE TEMP TABLE item_bench AS SELECT CAST(item_id AS VARCHAR) AS item_id,"
                    f" any_value(CAST({name} AS VARCHAR)) AS benchmark FROM read_parquet(?, union_by_name = true)"
                    " GROUP BY item_id", [_escaped(tables["item"])])
    else:
        con.execute("CREATE TEMP TABLE item_bench (item_id VARCHAR, benchmark VARCHAR)")
    # Items the item table does not name: their benchmark from the id (<benchmark slug>_<time>_<n>),
    # matched to the bench table's names as OpenEval makes slugs (lower case, '_' and ' ' as '-').
    unmatched = con.execute("SELECT DISTINCT item_id FROM scored WHERE item_id NOT IN (SELECT item_id FROM item_bench)"
                            ).fetchall()
    if not unmatched:
        return
    slugs = {_slug(name): name for (name,) in con.execute("SELECT benchmark FROM bench_tags").fetchall()}
    rows, guessed = [], set()
    for (item_id,) in unmatched:
        match = re.match(r"^(.+?)_\d{8}T\d{6}Z_\d+$", item_id)
        slug = match.group(1) if match else item_id.rsplit("_", 1)[0]
        if slug not in slugs:
            guessed.add(slug)
        rows.append((item_id, slugs.get(slug, slug)))
    con.executemany("INSERT INTO item_bench VALUES (?, ?)", rows)
    notes.append(f"{unit.name}: {len(rows)} item(s) are not in an item table; their benchmark is read from the id"
                 + (f" (not in the bench table: {', '.join(sorted(guessed))})" if guessed else ""))


def _slug(name: str) -> str:
    return name.replace("_", "-").replace(" ", "-").lower()


# -- shared ----------------------------------------------------------------------------------------


def _models_frame(models: pd.Series, sizes: dict[str, str]) -> pd.DataFrame:
    names = sorted(set(models))
    return pd.DataFrame({"model": names, "params_b": [_params_b(sizes.get(name)) for name in names]})


def _params_b(size: str | None) -> float | None:
    """Return a size label ("7B", "1.5b", "350M") in billions of parameters, or None."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([BbMmKkTt]?)\s*", size or "")
    if not match:
        return None
    scale = {"": 1.0, "b": 1.0, "m": 1e-3, "k": 1e-6, "t": 1e3}[match.group(2).lower()]
    return float(match.group(1)) * scale
