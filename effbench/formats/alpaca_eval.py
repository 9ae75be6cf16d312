"""AlpacaEval pairwise judgements: ``annotations.json``, a model's outputs judged against a baseline's.

AlpacaEval (tatsu-lab/alpaca_eval) writes ``results/<model>/<annotator>/annotations.json``: a JSON list
with one record per instruction, ``generator_1`` the baseline (e.g. ``text_davinci_003``,
``gpt4_1106_preview``), ``generator_2`` the model, ``preference`` the judge's verdict and ``dataset``
the instruction's source. The model is ``generator_2``; its score on an instruction is ``preference -
1``: 2 = win (1), 1 = loss (0), 1.5 = draw (0.5), and 0, AlpacaEval's old code for a draw, is 0.5 too;
a continuous preference (AlpacaEval 2.0's weighted annotator) maps the same way. A null preference, or
one outside [1, 2], is missing (NaN), as AlpacaEval drops it (``metrics/helpers.py``,
``describe_head2head``), so a model's mean score is AlpacaEval's win rate divided by 100.

The scenario is ``alpaca_eval``: one benchmark whose mean is the published win rate. The
instruction's ``dataset`` (helpful_base, koala, oasst, selfinstruct, vicuna) is kept as a column;
made into scenarios it would turn the win rate into a mean over five subsets of unequal size. An
item is AlpacaEval's own id where the record has one, else a stable hash of the instruction. The
baseline is not a ranked model: it has no rows, and the load says so.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pandas as pd

from effbench.errors import EffbenchError
from effbench.formats import FormatRead, ReadOptions

NAME = "alpaca-eval"
DESCRIPTION = "AlpacaEval pairwise judgements (annotations.json: generator_2 judged against generator_1)"

SCENARIO = "alpaca_eval"
METRIC = "win_rate"
_REQUIRED = ("instruction", "generator_1", "generator_2", "preference")
_ID_FIELDS = ("id", "instruction_id", "example_id", "idx")
_HEAD_LIMIT = 1 << 22  # a first record longer than 4 MB is not an AlpacaEval annotation


def find(root: Path, files: list[Path]) -> list[Path]:
    """Return the files under `root` that are lists of AlpacaEval pairwise annotations."""
    return [path for path in files if path.suffix.lower() == ".json" and _is_annotations(path)]


def _is_annotations(path: Path) -> bool:
    """Return whether the file's first record has AlpacaEval's fields, reading only that record."""
    decoder = json.JSONDecoder()
    try:
        with open(path, encoding="utf-8") as handle:
            head = handle.read(1 << 16)
            if not head.lstrip().startswith("["):
                return False
            while True:
                body = head.lstrip()[1:].lstrip()
                try:
                    first, _ = decoder.raw_decode(body)
                    break
                except ValueError:
                    more = handle.read(1 << 18)
                    if not more or len(head) > _HEAD_LIMIT:
                        return False
                    head += more
    except (OSError, UnicodeDecodeError):
        return False
    return isinstance(first, dict) and all(key in first for key in _REQUIRED) and "output_2" in first


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Return one row per judged instruction for the model (`generator_2`); the baseline gets none."""
    try:
        with open(unit, encoding="utf-8") as handle:
            records = json.load(handle)
    except (OSError, ValueError) as exc:
        raise EffbenchError(f"{unit}: not a readable JSON file ({exc})") from None
    if not isinstance(records, list) or not records:
        raise EffbenchError(f"{unit}: expected a non-empty JSON list of annotations")
    rows, baselines, annotators, outside = [], set(), set(), 0
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise EffbenchError(f"{unit}: annotation {number} is not an object")
        for key in _REQUIRED:
            if key not in record:
                raise EffbenchError(f"{unit}: annotation {number} has no field {key!r}")
        if not isinstance(record["instruction"], str):
            raise EffbenchError(f"{unit}: annotation {number}: field 'instruction' is not text")
        score, is_outside = _score(record["preference"], unit, number)
        outside += is_outside
        baselines.add(str(record["generator_1"]))
        annotators.add(str(record.get("annotator") or ""))
        rows.append({
            "model": str(record["generator_2"]),
            "scenario": SCENARIO,
            "item_id": _item_id(record),
            "score": score,
            "baseline": str(record["generator_1"]),
            "dataset": record.get("dataset"),
            "run": str(record.get("annotator") or unit.parent.name),
            "metric": METRIC,
            "file": unit.name,
        })
    items = pd.DataFrame(rows)
    if items["dataset"].isna().all():
        items = items.drop(columns="dataset")
    if len(baselines) > 1:
        items["scenario"] = SCENARIO + " vs " + items["baseline"]
    models = sorted(items["model"].unique())
    notes = [f"{unit.name}: judged against the baseline {', '.join(sorted(baselines))}, which is not ranked "
             f"(annotator {', '.join(sorted(a for a in annotators if a)) or 'not named'})"]
    if len(baselines) > 1:
        notes.append(f"{unit.name}: several baselines; each makes its own scenario '{SCENARIO} vs <baseline>'")
    missing = int(items["score"].isna().sum())
    if missing:
        notes.append(f"{unit.name}: {missing} instruction(s) without a preference (null"
                     + (f", or outside 1..2 in {outside}" if outside else "")
                     + ") count as not evaluated, as AlpacaEval drops them")
    scenarios = pd.DataFrame([{"scenario": s, "metric": METRIC, "higher_is_better": True, "tags": "pairwise",
                               "description": "share of instructions where the judge prefers the model's output "
                                              "to the baseline's (draws count half)"}
                              for s in sorted(items["scenario"].unique())])
    return FormatRead(
        format=NAME, unit=unit, files=(unit,), items=items, scenarios=scenarios,
        models=pd.DataFrame({"model": models}), runs=1, notes=tuple(notes),
        options={"baseline": sorted(baselines), "annotator": sorted(a for a in annotators if a),
                 "preference": "score = preference - 1; 0 and 1.5 are draws (0.5); null is missing"},
    )


def _score(preference: object, unit: Path, number: int) -> tuple[float, bool]:
    """Return the model's score for one preference and whether it was a number outside AlpacaEval's range."""
    if preference is None:
        return math.nan, False
    if isinstance(preference, bool) or not isinstance(preference, int | float):
        raise EffbenchError(f"{unit}: annotation {number}: field 'preference' is {preference!r}, not a number")
    value = float(preference)
    if math.isnan(value):
        return math.nan, False
    if value == 0:  # AlpacaEval's old encoding of a draw
        return 0.5, False
    if not 1 <= value <= 2:
        return math.nan, True
    return value - 1, False


def _item_id(record: dict) -> str:
    for key in _ID_FIELDS:
        if record.get(key) is not None:
            return str(record[key])
    text = record["instruction"]
    if record.get("input"):  # AlpacaFarm-style records split the prompt into instruction and input
        text += "\n\n" + str(record["input"])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
