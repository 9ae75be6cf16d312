"""Inspect AI logs: ``.json`` logs and ``.eval`` logs (zip archives), one log per task and model.

Scenario = the log's task (`eval.task`), model = `eval.model`, item = the sample id, one row per
epoch (key column ``epoch``; an item's score is the mean over its epochs, Inspect's default
``mean`` reducer). A task whose epochs are reduced otherwise (``Epochs(3, "max")``; the first of
`eval.config.epochs_reducer`, the one Inspect's headline reports) loads the log's per-sample
reductions, one row per sample, so that its means are the log's own; a log that declares more
epochs than its samples hold says so. One scorer is taken per task: the first of `eval.scorers` whose values are
scalars, or the one named with ``--metric TASK=SCORER`` (``SCORER/KEY`` picks one key of a scorer
whose values are dicts). Values convert as Inspect's ``value_to_float`` does (C = 1, P = 0.5, I and
N = 0, booleans, numbers, numeric strings, yes/no, true/false), except that a value it cannot
convert is NaN (not evaluated), never 0; so is a sample that errored before it was scored.

A log whose `status` is not ``success`` (started, cancelled, error) is loaded for the samples it
holds, and the load says so. A log written without samples loads its per-sample reductions, or
failing those its aggregate metric as a scenario-level result.

The ``.eval`` layout follows inspect_ai's `log/_recorders/eval.py`: ``header.json`` (or, while a
run is in progress, ``_journal/start.json``), ``summaries.json`` (or ``_journal/summaries/N.json``)
with every sample's scores, ``reductions.json`` and ``samples/<id>_epoch_<n>.json``. ``.json`` logs
are read as a stream, one sample at a time.
"""

from __future__ import annotations

import json
import math
import re
import struct
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import ITEM_COLUMNS, SCENARIO_SCORE_COLUMNS, FormatRead, ReadOptions
from effbench.formats.shapes import LIST, OBJECT, SCALAR, TEXT, WHOLE

# Inspect writes .eval entries with Zstandard (zip method 93) since 0.3.206; Python's own zipfile reads
# them from 3.14, and backports-zstd carries the same zipfile for older versions.
if sys.version_info >= (3, 14):
    import zipfile

    from compression import zstd
else:
    try:
        from backports import zstd
        from backports.zstd import zipfile
    except ImportError:  # without the backport, deflate logs still read and Zstandard ones say why not
        import zipfile

        zstd = None
_ZIP_ZSTANDARD = 93
# A zip entry's local file header (APPNOTE 4.3.7), before its file name and extra field.
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
# What a damaged entry raises while it is decompressed (zlib.error, ZstdError, ...): all are Exceptions
# of their own modules, so they are told apart from effbench's own errors by their module.
_DECOMPRESSION_MODULES = ("zlib", "backports.zstd", "compression.zstd", "_zstd", "bz2", "lzma", "_lzma")

NAME = "inspect"
DESCRIPTION = "Inspect AI logs (.json and .eval): task x model x sample x epoch, one scorer per task"

# The first keys of an EvalLog as Inspect writes it (`version` is absent from some older logs).
_JSON_LOG_START = re.compile(
    r'^\s*\{\s*(?:"version"\s*:\s*\d+\s*,\s*)?"status"\s*:\s*"(?:started|success|cancelled|error)"\s*,'
    r'\s*"eval"\s*:\s*\{'
)
_HEADER_NAMES = ("header.json", "_journal/start.json", "start.json")
_LETTERS = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
_WORDS = {"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}
# Aggregate metrics to take, in this order, when a log holds no per-sample scores.
_AGGREGATE_METRICS = ("accuracy", "mean")


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the Inspect logs among `files`: ``.eval`` zips with an Inspect header, ``.json`` EvalLogs."""
    return [path for path in files
            if (path.suffix == ".eval" and _is_eval_zip(path)) or (path.suffix == ".json" and _is_json_log(path))]


def _is_eval_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                return False
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return any(name in names for name in _HEADER_NAMES)


def _is_json_log(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            start = handle.read(4096)
    except OSError:
        return False
    return _JSON_LOG_START.match(start) is not None


def run_started(unit: Path) -> tuple[bool, float | None]:
    """Return whether the log's run finished (`status` ``success``) and when it started (`eval.created`,
    seconds since the epoch), reading only the header."""
    if unit.suffix == ".eval":
        header = _read_eval_zip(unit, header_only=True)[0]
    else:
        header = {}
        with _json_log_errors(unit), open(unit, encoding="utf-8") as handle:
            for key, value in _top_level(handle):
                if key is not None:
                    header[key] = value
                if key in (None, "eval"):  # `status` comes before `eval`; the samples come after
                    break
    spec = header.get("eval")
    created = spec.get("created") if isinstance(spec, dict) else None
    try:
        when = pd.Timestamp(created).timestamp() if isinstance(created, str) else None
    except ValueError:
        when = None
    return header.get("status", "success") == "success", when


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Read one Inspect log into items (or, for a log without samples, one scenario-level result)."""
    if unit.suffix == ".eval":
        header, samples, reductions = _read_eval_zip(unit)
    else:
        header, samples, reductions = _read_json_log(unit)
    spec = header.get("eval")
    if not isinstance(spec, dict):
        raise EffbenchError(f"{unit}: not an Inspect log: no 'eval' object")
    task, model = spec.get("task"), spec.get("model")
    if not isinstance(task, str) or not task or not isinstance(model, str) or not model:
        raise EffbenchError(f"{unit}: the Inspect log lacks 'eval.task' or 'eval.model'")
    status = header.get("status", "success")
    run = str(spec.get("run_id") or spec.get("eval_id") or task)
    notes: list[str] = []
    config = shapes.field(spec, "config", OBJECT, f"{unit}: eval", default={}, nullable=True)
    reducer, *other_reducers = _declared_reducers(config)
    _note_missing_epochs(unit, config, samples, notes)
    per_epoch = bool(samples)
    if samples and reducer != "mean":
        reduced = reductions.get(reducer)
        if reduced:
            samples, per_epoch = reduced, False
            also = f" (also reduced by: {', '.join(other_reducers)})" if other_reducers else ""
            notes.append(f"{unit.name}: epochs are reduced by {reducer!r}, the log's first reducer{also}; loaded "
                         "the log's per-sample reductions, one per sample")
        else:
            notes.append(f"{unit.name}: the log's epoch reducer {reducer!r} left no per-sample reductions; "
                         "loaded every epoch (a sample's score is then the mean over its epochs)")
    if not samples and reductions:
        samples = reductions.get(reducer) or next(iter(reductions.values()))
        notes.append(f"{unit.name}: the log holds no samples; loaded its per-sample reduced scores (one per sample)")
    if status != "success":
        notes.append(f"{unit.name}: the log's status is {status!r} (the run did not finish); "
                     f"loaded the {len(samples)} sample(s) it holds")
    # Scorers in the order the task declares them, but only those some sample was scored by.
    seen: dict[str, None] = {}
    for _, _, scores, _ in samples:
        seen.update(dict.fromkeys(scores))
    scorers = shapes.field(spec, "scorers", LIST, f"{unit}: eval", default=[], nullable=True)
    declared = [s["name"] for s in scorers
                if isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"] in seen]
    scorer_names = [*declared, *(name for name in seen if name not in declared)]

    short_task = task.rsplit("/", 1)[-1]
    chosen = options.metric_for(task, short_task)
    explicit = options.metrics.get(task) is not None or options.metrics.get(short_task) is not None
    base = dict(format=NAME, unit=unit, files=(unit,), runs=1,
                options={"task": task, "status": status, "per_epoch": per_epoch, "epoch_reducer": reducer})
    if not samples:
        return _aggregate_only(unit, header, task, model, run, chosen, notes, base)

    scorer, key = _choose_scorer(unit, task, samples, scorer_names, chosen, explicit, notes)
    metric = scorer if key is None else f"{scorer}/{key}"
    scenarios = pd.DataFrame({"scenario": [task], "metric": [metric], "higher_is_better": [pd.NA],
                              "title": [spec.get("task_display_name") or None]})
    models = pd.DataFrame({"model": [model]})
    if scorer is None:
        return FormatRead(**base, scenarios=scenarios.assign(metric=None), models=models, notes=tuple(notes))

    ids, epochs, values = [], [], []
    unconverted = 0
    for sample_id, epoch, scores, _ in samples:
        value = scores.get(scorer)
        if key is not None:
            value = value.get(key) if isinstance(value, dict) else None
        score = _to_float(value)
        if math.isnan(score) and value is not None and not _is_nan(value):
            unconverted += 1
        ids.append(str(sample_id))
        epochs.append(epoch)
        values.append(score)
    if unconverted:
        notes.append(f"{unit.name}: {unconverted} value(s) of {metric!r} are not numbers, letters (C/I/P/N) "
                     "or yes/no and count as not evaluated")
    items = pd.DataFrame({"model": model, "scenario": task, "item_id": ids, "score": values,
                          "epoch": pd.array(epochs, dtype="Int64"), "run": run, "metric": metric, "file": unit.name},
                         columns=[*ITEM_COLUMNS, "epoch", "run", "metric", "file"])
    return FormatRead(**base, items=items, keys=("epoch",), scenarios=scenarios, models=models, notes=tuple(notes))


def _declared_reducers(config: dict) -> list[str]:
    """Return the epoch reducers the log's `eval.config` declares, in order (Inspect's default is ``mean``)."""
    declared = config.get("epochs_reducer")
    if isinstance(declared, str):
        declared = [declared]
    return [r for r in declared if isinstance(r, str)] if isinstance(declared, list) and declared else ["mean"]


def _note_missing_epochs(unit: Path, config: dict, samples: list, notes: list[str]) -> None:
    """Note a log that declares more epochs than any of its samples was scored in."""
    declared = config.get("epochs")
    scored = {epoch for _, epoch, scores, _ in samples if scores}
    if isinstance(declared, int) and samples and len(scored) < declared:
        notes.append(f"{unit.name}: the log declares {declared} epochs but its samples were scored in "
                     f"{len(scored)} ({', '.join(map(str, sorted(scored))) or 'none'}); loaded what it holds")


def _choose_scorer(unit: Path, task: str, samples: list, names: list[str], chosen: str | None, explicit: bool,
                   notes: list[str]) -> tuple[str | None, str | None]:
    """Return (scorer, dict key or None) for `task`, noting every fallback and skipped scorer."""
    dict_keys = {name: _dict_keys(samples, name) for name in names}
    if chosen is not None:
        if chosen in names:
            if not dict_keys[chosen]:
                return chosen, None
            notes.append(f"{task}: scorer {chosen!r} gives dict values ({', '.join(dict_keys[chosen])}); "
                         f"name one with --metric {task}={chosen}/KEY")
            return None, None
        scorer, _, key = chosen.rpartition("/")
        if scorer in names and key in dict_keys[scorer]:
            return scorer, key
        with_key = [name for name in names if chosen in dict_keys[name]]
        if with_key:
            return with_key[0], chosen
        if explicit:
            raise EffbenchError(f"{unit}: task {task!r} has no scorer {chosen!r} "
                                f"(its scorers: {', '.join(names) or 'none'})")
        notes.append(f"{task}: no scorer {chosen!r}; took the default")
    for name in names:
        if not dict_keys[name]:
            if name != (names[0] if names else None):
                notes.append(f"{task}: took scorer {name!r}, the first with one value per sample")
            elif len(names) > 1:
                notes.append(f"{task}: took the first scorer, {name!r} (also: {', '.join(names[1:])}; "
                             f"choose with --metric {task}=SCORER)")
            return name, None
        notes.append(f"{task}: skipped scorer {name!r}: its values are dicts ({', '.join(dict_keys[name])}); "
                     f"take one key with --metric {task}={name}/KEY")
    if not names:
        notes.append(f"{task}: the samples carry no scores")
    return None, None


def _dict_keys(samples: list, scorer: str) -> list[str]:
    keys: list[str] = []
    for _, _, scores, _ in samples:
        value = scores.get(scorer)
        if isinstance(value, dict):
            keys.extend(k for k in value if k not in keys)
    return keys


def _aggregate_only(unit: Path, header: dict, task: str, model: str, run: str, chosen: str | None,
                    notes: list[str], base: dict) -> FormatRead:
    """A log without samples or reductions: its aggregate metric as a scenario-level result."""
    results = shapes.field(header, "results", OBJECT, str(unit), default={}, nullable=True)
    scores = shapes.field(results, "scores", LIST, f"{unit}: results", default=[], nullable=True)
    entries = [(f"{unit}: results: scores entry {i}", e) for i, e in enumerate(scores) if isinstance(e, dict)]
    if chosen is not None:
        entries = [(w, e) for w, e in entries if chosen in (e.get("name"), e.get("scorer"))] or entries
    for where, entry in entries:
        metrics = shapes.field(entry, "metrics", OBJECT, where, default={}, nullable=True)
        for name in (*_AGGREGATE_METRICS, *metrics):
            metric = shapes.field(metrics, name, OBJECT, f"{where}: metrics", default={}, nullable=True)
            value = shapes.loose(metric, "value", f"{where}: metrics: {name}")
            if isinstance(value, int | float) and not isinstance(value, bool):
                metric = f"{entry.get('name')}/{name}"
                notes.append(f"{unit.name}: the log holds no per-sample scores; loaded its aggregate {metric} "
                             "as a scenario-level result")
                frame = pd.DataFrame({"model": [model], "scenario": [task], "score": [float(value)], "run": [run],
                                      "metric": [metric], "file": [unit.name]},
                                     columns=[*SCENARIO_SCORE_COLUMNS, "run", "metric", "file"])
                scenarios = pd.DataFrame({"scenario": [task], "metric": [metric]})
                return FormatRead(**base, scenario_scores=frame, scenarios=scenarios,
                                  models=pd.DataFrame({"model": [model]}), notes=tuple(notes))
    notes.append(f"{unit.name}: the log holds no samples and no aggregate score")
    return FormatRead(**base, notes=tuple(notes))


def _to_float(value: object) -> float:
    """Return `value` as Inspect's value_to_float reads it, NaN where it cannot (never a made-up 0)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        if value in _LETTERS:
            return _LETTERS[value]
        lowered = value.strip().lower()
        if lowered in _WORDS:
            return _WORDS[lowered]
        try:
            number = float(lowered)
        except ValueError:
            return math.nan
        return number if math.isfinite(number) else math.nan
    return math.nan


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


# -- reading the two layouts into (header, samples, reductions) -----------------------------------------
# A sample is (id, epoch, {scorer: value}, error); reductions use the same shape with epoch None.


def _sample_record(sample: object, where: str) -> tuple:
    """Return (id, epoch, {scorer: value}, error) of one sample (`where` names the file and the sample)."""
    sample = shapes.entry(sample, where)
    sample_id = shapes.field(sample, "id", SCALAR, where)
    scores = shapes.field(sample, "scores", OBJECT, where, default={}, nullable=True)
    values = {name: _score_value(score, f"{where}: scores: {name}") for name, score in scores.items()}
    epoch = shapes.field(sample, "epoch", WHOLE, where, default=1, nullable=True)
    return sample_id, epoch, values, sample.get("error")


def _score_value(score: object, where: str) -> object:
    """Return a score's value as the log holds it (a dict for scorers with several values), refusing an
    integer no float holds anywhere in it."""
    if not isinstance(score, dict):
        return None
    return shapes.loose(score, "value", where)


def _reduction_records(unit: Path, reductions: object) -> dict[str, list[tuple]]:
    """Return the per-sample reduced scores by reducer (``mean`` where a reduction names none)."""
    by_reducer: dict[str, dict[object, dict]] = {}
    if not isinstance(reductions, list | None):
        raise EffbenchError(f"{unit}: field 'reductions' is {shapes.describe(reductions)}, expected a list")
    for position, reduction in enumerate(reductions or []):
        where = f"{unit}: reductions entry {position}"
        reduction = shapes.entry(reduction, where)
        scorer = shapes.field(reduction, "scorer", TEXT, where)
        by_sample = by_reducer.setdefault(str(shapes.field(reduction, "reducer", TEXT, where, default="mean",
                                                           nullable=True)), {})
        for index, score in enumerate(shapes.field(reduction, "samples", LIST, where, default=[], nullable=True)):
            score_at = f"{where}: samples entry {index}"
            score = shapes.entry(score, score_at)
            sample_id = shapes.field(score, "sample_id", SCALAR, score_at, default=None, nullable=True)
            by_sample.setdefault(sample_id, {})[scorer] = _score_value(score, score_at)
    return {reducer: [(sample_id, None, values, None) for sample_id, values in by_sample.items()
                      if sample_id is not None] for reducer, by_sample in by_reducer.items()}


def _read_eval_zip(unit: Path, *, header_only: bool = False) -> tuple[dict, list, dict]:
    try:
        with zipfile.ZipFile(unit) as archive:
            names = archive.namelist()
            present = set(names)

            def load(name: str) -> object:
                where = f"{unit}: {name} inside the archive"
                return shapes.parse_json(shapes.decode(_read_entry(archive, name), where), where)

            header_name = next((name for name in _HEADER_NAMES if name in present), None)
            if header_name is None:
                raise EffbenchError(f"{unit}: not an Inspect .eval log: no header.json or _journal/start.json")
            header = load(header_name)
            if not isinstance(header, dict):
                raise EffbenchError(f"{unit}: {header_name} is not an object")
            if header_name != "header.json":
                header.setdefault("status", "started")
                if "results.json" in present:  # the first .eval layout kept the status apart
                    header.update(shapes.entry(load("results.json"), f"{unit}: results.json inside the archive"))
            if header_only:
                return header, [], {}
            summaries = _summary_entries(names, present)
            if summaries:
                samples = [_sample_record(sample, f"{unit}: {name} entry {position}") for name in summaries
                           for position, sample in enumerate(_as_list(unit, name, load(name)))]
            else:
                samples = [_sample_record(load(name), f"{unit}: {name} inside the archive") for name in names
                           if _is_sample_entry(name)]
            reductions = _reduction_records(unit, load("reductions.json")) if "reductions.json" in present else {}
    except zipfile.BadZipFile as error:
        raise EffbenchError(f"{unit}: not a readable .eval (zip) file: {error}") from None
    except NotImplementedError as error:  # a compression method this Python's zipfile lacks
        hint = " (Zstandard: install backports-zstd)" if getattr(zipfile, "ZIP_ZSTANDARD", None) is None else ""
        raise EffbenchError(f"{unit}: cannot read the .eval (zip) file: {error}{hint}") from None
    except Exception as error:
        if not isinstance(error, OSError | EOFError) and type(error).__module__ not in _DECOMPRESSION_MODULES:
            raise
        raise EffbenchError(f"{unit}: a damaged entry in the .eval (zip) file: {error}") from None
    return header, samples, reductions


def _read_entry(archive: zipfile.ZipFile, name: str) -> bytes:
    """Return the bytes of entry `name`. Inspect compresses a large entry as several Zstandard frames (one
    per 200 MiB of input), which zipfile's decompressor stops reading after the first (a CRC error):
    such an entry is decompressed whole, every frame, and its CRC checked here."""
    info = archive.getinfo(name)
    if info.file_size > shapes.MAX_JSON_BYTES:  # zipfile reads no more than the size the entry declares
        raise EffbenchError(f"{archive.filename}: entry {name} unpacks to {info.file_size / (1 << 30):.1f} GiB, more "
                            f"than effbench reads at once ({shapes.MAX_JSON_BYTES / (1 << 30):.0f} GiB)")
    try:
        return archive.read(info)
    except zipfile.BadZipFile:
        if info.compress_type != _ZIP_ZSTANDARD or zstd is None:
            raise
    with open(archive.filename, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(_LOCAL_HEADER.size)  # the local header's own name and extra lengths place the data
        name_length, extra_length = _LOCAL_HEADER.unpack(local)[-2:]
        handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
        data = zstd.decompress(handle.read(info.compress_size))
    if zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"Bad CRC-32 for file {name!r}")
    return data


def _summary_entries(names: list[str], present: set[str]) -> list[str]:
    """Return the archive entries holding every sample's scores, in the order Inspect wrote them."""
    for whole in ("summaries.json", "summary.json"):
        if whole in present:
            return [whole]
    for prefix in ("_journal/summaries/", "summaries/"):
        parts = [name for name in names if name.startswith(prefix) and name[len(prefix):-5].isdigit()
                 and name.endswith(".json")]
        if parts:
            return sorted(parts, key=lambda name: int(name[len(prefix):-5]))
    return []


def _is_sample_entry(name: str) -> bool:
    # samples/<id>_epoch_<n>.json (one entry per sample) or samples/<id>_epoch_<n>/sample.json (chunked)
    return name.startswith("samples/") and (name.count("/") == 1 and name.endswith(".json")
                                            or name.count("/") == 2 and name.endswith("/sample.json"))


def _as_list(unit: Path, name: str, value: object) -> list:
    if not isinstance(value, list):
        raise EffbenchError(f"{unit}: {name} inside the archive is not a list of samples")
    return value


def _read_json_log(unit: Path) -> tuple[dict, list, dict]:
    header: dict = {}
    samples: list = []
    reductions: dict = {}
    with _json_log_errors(unit), open(unit, encoding="utf-8") as handle:
        for key, value in _top_level(handle):
            if key is None:
                samples.append(_sample_record(value, f"{unit}: sample {len(samples)}"))
            elif key == "reductions":
                reductions = _reduction_records(unit, value)
            else:
                header[key] = value
    return header, samples, reductions


@contextmanager
def _json_log_errors(unit: Path) -> Iterator[None]:
    """Turn what reading a .json log as a stream can raise into one line naming the file."""
    try:
        yield
    except UnicodeDecodeError as error:
        raise EffbenchError(f"{unit}: not UTF-8 text ({error.reason} at character {error.start} of a block)"
                            ) from None
    except RecursionError:
        raise EffbenchError(f"{unit}: JSON nested too deeply to read") from None
    except ValueError as error:
        raise EffbenchError(f"{unit}: not valid JSON ({error})") from None


_WHITESPACE = re.compile(r"\s*")
_DECODER = json.JSONDecoder()


def _top_level(handle, block: int = 1 << 20) -> Iterator[tuple[str | None, object]]:
    """Yield (key, value) for each member of the JSON object in `handle`, but each element of its
    ``samples`` array on its own as (None, sample), so that a large log is never held whole."""
    reader = _StreamReader(handle, block)
    reader.expect("{")
    if reader.peek() == "}":
        return
    while True:
        key = reader.value()
        if not isinstance(key, str):
            raise ValueError("an object key is not a string")
        reader.expect(":")
        if key == "samples" and reader.peek() == "[":
            reader.expect("[")
            if reader.peek() == "]":
                reader.expect("]")
            else:
                while True:
                    yield None, reader.value()
                    if reader.expect(",]") == "]":
                        break
        else:
            yield key, reader.value()
        if reader.expect(",}") == "}":
            return


class _StreamReader:
    """Decode one JSON value at a time from a text stream, reading more only as needed."""

    def __init__(self, handle, block: int) -> None:
        self.handle = handle
        self.buffer = ""
        self.pos = 0
        self.block = block

    def _more(self) -> bool:
        chunk = self.handle.read(max(self.block, len(self.buffer) - self.pos))
        if not chunk:
            return False
        self.buffer = self.buffer[self.pos:] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            self.pos = _WHITESPACE.match(self.buffer, self.pos).end()
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._more():
                return ""

    def expect(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            raise ValueError(f"expected one of {allowed!r} at character {self.pos}, found {char!r}")
        self.pos += 1
        return char

    def value(self) -> object:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError:
                if self._more():  # the value runs past what has been read so far
                    continue
                raise
            if end == len(self.buffer) and self._more():  # a number may continue in the next block
                continue
            self.pos = end
            return value
