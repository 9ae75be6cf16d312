"""HELM's description of a suite: the ``schema.json`` helm-summarize writes, or HELM Classic's packaged schema.

``schema.json`` lies next to the runs (``--suite``) or in ``releases/<release>/`` (``--release``): its
``run_groups[]`` name each group's main metric (``environment.main_name`` and ``main_split``), its
``metrics[]`` say which are lower-is-better, its ``models[]`` carry the models' metadata. Every field
is read with its declared type (`effbench.formats.shapes`), so a schema of another shape is one error
naming the file, the entry and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import effbench.formats.shapes as shapes
from effbench.errors import EffbenchError
from effbench.formats.shapes import BOOL, LIST, NUMBER, OBJECT, TEXT

SCHEMA = "schema.json"
# Suites from before helm-summarize wrote schema.json (HELM Classic, 2022-23) were described by the
# schema_classic.yaml packaged with HELM: each run group's main metric and split, copied from it
# (stanford-crfm/helm @ 63754d05, src/helm/benchmark/static/schema_classic.yaml).
CLASSIC_MAIN_METRICS: dict[tuple[str, str], str] = {
    ("NDCG@10", "valid"): "msmarco_trec",
    ("RR@10", "valid"): "msmarco_regular",
    ("bits_per_byte", "test"): "ice the_pile twitter_aae twitter_aae_aa twitter_aae_white cleva_language_modeling",
    ("bleu_4", "test"): "wmt_14",
    ("chinese_bleu_1", "test"): "cleva_data_to_text_generation cleva_dialogue_generation cleva_pinyin_transliteration",
    ("chinese_ibleu", "test"): "cleva_paraphrase_generation",
    ("chinese_rouge_2", "test"): "cleva_summarization",
    ("classification_macro_f1", "test"): "lextreme lex_glue",
    ("cleva_machine_translation_bleu", "test"): "cleva_translation",
    ("cleva_math_result_match", "test"): "cleva_mathematical_reasoning",
    ("cleva_top1_accuracy", "test"): "cleva_conceptual_generalization",
    ("exact_match", "test"): "openbookqa mmlu blimp cleva_closed_book_question_answering cleva_text_classification "
    "cleva_opinion_mining cleva_paraphrase_identification cleva_reading_comprehension cleva_sentiment_analysis "
    "cleva_classical_chinese_understanding cleva_coreference_resolution cleva_intent_understanding "
    "cleva_subject_knowledge cleva_cultural_knowledge cleva_reasoning_primitive cleva_deductive_reasoning "
    "cleva_inductive_reasoning cleva_code_synthesis cleva_commonsense_reasoning cleva_toxicity_detection cleva_bias "
    "cleva_fact_checking cleva_instruction_following cleva_mathematical_calculation thai_exam",
    ("exact_match", "valid"): "hellaswag truthful_qa",
    ("exact_match_indicator", "test"): "dyck_language gsm",
    ("f1_score", "test"): "narrative_qa",
    ("f1_score", "valid"): "natural_qa_closedbook natural_qa_openbook_longans quac",
    ("f1_set_match", "test"): "synthetic_reasoning_natural",
    ("math_equiv", "test"): "math_regular",
    ("math_equiv_chain_of_thought", "test"): "math_chain_of_thought",
    ("pass", "test"): "code_humaneval",
    ("quasi_exact_match", "test"): "raft civil_comments wikifact babi_qa synthetic_reasoning legalbench legal_support "
    "lsat_qa med_qa entity_data_imputation entity_matching bbq decodingtrust_adv_robustness "
    "decodingtrust_adv_demonstration decodingtrust_ood_robustness decodingtrust_fairness decodingtrust_privacy "
    "decodingtrust_machine_ethics",
    ("quasi_exact_match", "valid"): "boolq imdb",
    ("rouge_2", "test"): "summarization_cnndm summarization_xsum billsum_legal_summarization "
    "multilexsum_legal_summarization eurlexsum_legal_summarization",
    ("test_avg", "test"): "code_apps",
}
CLASSIC_LOWER_IS_BETTER = frozenset({"bits_per_byte"})

@dataclass(frozen=True)
class Group:
    """What a suite's schema says about a run group."""

    main_name: str | None
    main_split: str | None
    description: str | None
    display_name: str | None = None  # what HELM's frontend calls it ("BBQ" for bbq)


@dataclass(frozen=True)
class Model:
    """What a suite's schema says about a model."""

    display_name: str | None
    organization: str | None
    params_b: float | None
    release_date: str | None


@dataclass(frozen=True)
class Schema:
    path: Path | None
    groups: dict[str, Group] = field(default_factory=dict)
    lower_is_better: dict[str, bool] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)


def schema_path(suite: Path) -> Path | None:
    """Return the schema.json describing `suite`: its own, or that of a release that lists it."""
    own = suite / SCHEMA
    if own.is_file():
        return own
    releases = suite.parent.parent / "releases"
    if suite.parent.name != "runs" or not releases.is_dir():
        return None
    found = []
    for release in releases.iterdir():
        summary, schema = release / "summary.json", release / SCHEMA
        if not (summary.is_file() and schema.is_file()):
            continue
        try:
            listed = shapes.load_json(summary)
        except EffbenchError:  # another release's broken summary is no reason to refuse this suite
            continue
        if not isinstance(listed, dict):
            continue
        suites = listed.get("suites") if isinstance(listed.get("suites"), list) else [listed.get("suite")]
        if suite.name in suites:
            found.append((str(listed.get("date") or ""), release.name, schema))
    return max(found)[2] if found else None


def read_schema(path: Path | None) -> Schema:
    """Return what the schema at `path` says (HELM Classic's packaged schema when `path` is None)."""
    if path is None:
        groups = {group: Group(metric, split, None) for (metric, split), names in CLASSIC_MAIN_METRICS.items()
                  for group in names.split()}
        return Schema(None, groups, dict.fromkeys(CLASSIC_LOWER_IS_BETTER, True))
    raw = shapes.entry(shapes.load_json(path), f"{path}: the schema")
    groups = {}
    for where, group in _entries(raw, "run_groups", path):
        environment = shapes.field(group, "environment", OBJECT, where, default={}, nullable=True)
        environment_at = f"{where}: environment"
        description = shapes.field(group, "description", TEXT, where, default=None, nullable=True)
        display_name = shapes.field(group, "display_name", TEXT, where, default=None, nullable=True)
        groups[shapes.field(group, "name", TEXT, where)] = Group(
            shapes.field(environment, "main_name", TEXT, environment_at, default=None, nullable=True),
            shapes.field(environment, "main_split", TEXT, environment_at, default=None, nullable=True),
            description or display_name, display_name)
    lower = {}
    for where, metric in _entries(raw, "metrics", path):
        name = shapes.field(metric, "name", TEXT, where)
        lower_is_better = shapes.field(metric, "lower_is_better", BOOL, where, default=None, nullable=True)
        if lower_is_better is not None:
            lower[name] = lower_is_better
    models = {}
    for where, model in _entries(raw, "models", path):
        params = shapes.field(model, "num_parameters", NUMBER, where, default=None, nullable=True)
        models[shapes.field(model, "name", TEXT, where)] = Model(
            shapes.field(model, "display_name", TEXT, where, default=None, nullable=True),
            shapes.field(model, "creator_organization", TEXT, where, default=None, nullable=True),
            None if params is None else float(params) / 1e9,
            shapes.field(model, "release_date", TEXT, where, default=None, nullable=True))
    return Schema(path, groups, lower, models)


def _entries(raw: dict, name: str, path: Path) -> list[tuple[str, dict]]:
    """Return (where, entry) for each object in the schema's list `name` (absent or null: none)."""
    listed = shapes.field(raw, name, LIST, f"{path}", default=[], nullable=True)
    entries = []
    for position, entry in enumerate(listed):
        where = f"{path}: {name} entry {position}"
        entries.append((where, shapes.entry(entry, where)))
    return entries


def models_frame(models: list[str], schema: Schema) -> pd.DataFrame:
    """Return the schema's metadata of `models` (those it describes) as `FormatRead.models` holds it."""
    rows = [{"model": model, "display_name": meta.display_name, "organization": meta.organization,
             "params_b": meta.params_b, "release_date": meta.release_date}
            for model in sorted(set(models)) if (meta := schema.models.get(model)) is not None]
    frame = pd.DataFrame(rows, columns=["model", "display_name", "organization", "params_b", "release_date"])
    frame["params_b"] = frame["params_b"].astype("Float64")
    return frame
