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

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.common import FormatRead, ReadOptions
from effbench.formats.shapes import SCALAR, TEXT

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
        # Text that is not UTF-8 is replaced here, so that the read names the file and what is wrong with it.
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(1 << 16)
            if not head.lstrip().startswith("["):
                return False
            while True:
                body = head.lstrip()[1:].lstrip()
                try:
                    first, _ = decoder.raw_decode(body)
                    break
                except RecursionError:
                    return False
                except ValueError:
                    more = handle.read(1 << 18)
                    if not more or len(head) > _HEAD_LIMIT:
                        return False
                    head += more
    except OSError:
        return False
    return isinstance(first, dict) and all(key in first for key in _REQUIRED) and "output_2" in first


def read(unit: Path, options: ReadOptions) -> FormatRead:
    """Return one row per judged instruction for the model (`generator_2`); the baseline gets none."""
    records = shapes.load_json(unit)
    if not isinstance(records, list) or not records:
        raise EffbenchError(f"{unit}: expected a non-empty JSON list of annotations")
    rows, baselines, annotators, outside = [], set(), set(), 0
    for number, raw in enumerate(records, start=1):
        where = f"{unit}: annotation {number}"
        record = shapes.entry(raw, where)
        shapes.field(record, "instruction", TEXT, where)
        baseline = shapes.field(record, "generator_1", TEXT, where)
        annotator = shapes.field(record, "annotator", TEXT, where, default=None, nullable=True)
        score, is_outside = _score(shapes.number(record, "preference", where, nullable=True))
        outside += is_outside
        baselines.add(baseline)
        annotators.add(annotator or "")
        rows.append({
            "model": shapes.field(record, "generator_2", TEXT, where),
            "scenario": SCENARIO,
            "item_id": _item_id(record, where),
            "score": score,
            "baseline": baseline,
            "dataset": shapes.field(record, "dataset", TEXT, where, default=None, nullable=True),
            "run": annotator or unit.parent.name,
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


def _score(preference: float | None) -> tuple[float, bool]:
    """Return the model's score for one preference and whether it was a number outside AlpacaEval's range."""
    if preference is None or math.isnan(preference):
        return math.nan, False
    if preference == 0:  # AlpacaEval's old encoding of a draw
        return 0.5, False
    if not 1 <= preference <= 2:
        return math.nan, True
    return preference - 1, False


def _item_id(record: dict, where: str) -> str:
    for key in _ID_FIELDS:
        value = shapes.field(record, key, SCALAR, where, default=None, nullable=True)
        if value is not None:
            return str(value)
    text = record["instruction"]
    extra = shapes.field(record, "input", TEXT, where, default=None, nullable=True)
    if extra:  # AlpacaFarm-style records split the prompt into instruction and input
        text += "\n\n" + extra
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
