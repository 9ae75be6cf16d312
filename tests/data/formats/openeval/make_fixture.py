"""Write the OpenEval fixture: `items/items.jsonl` and the same data as the Hugging Face Parquet tables.

Written from OpenEval's published schema (open-eval/OpenEval `item_schema.json` and README, schema
v0.1.0), not copied from its data. Run from this folder: `python make_fixture.py`; `python make_fixture.py
plain-source` writes `plain_source/`, the same items with `item_metadata.source` as the benchmark's name
itself, the shape in every_eval_ever's OpenEval adapter test (`{'source': 'ifeval'}`).
"""

import json
import sys
from pathlib import Path

import duckdb

TIME = {"TruthfulQA": "20260221T020401Z", "WildBench": "20260220T224823Z"}
TAGS = {"TruthfulQA": ["truthfulness"], "WildBench": ["real-world", "multi-turn chat"]}
SIZES = {"Model-A": "7B", "Model-B": None}
# benchmark, item number, model, response number, [(metric, value), ...]
RESPONSES = [
    ("TruthfulQA", 0, "Model-A", 0, [("exact_match", 1), ("bleu", 0.8)]),
    ("TruthfulQA", 0, "Model-B", 0, [("exact_match", 0), ("bleu", 0.1)]),
    ("TruthfulQA", 0, "Model-B", 1, [("exact_match", 1), ("bleu", 0.9)]),
    ("TruthfulQA", 1, "Model-A", 0, [("exact_match", True), ("bleu", 0.7)]),
    ("TruthfulQA", 1, "Model-B", 0, [("exact_match", 0), ("bleu", 0.2)]),
    ("TruthfulQA", 2, "Model-A", 0, [("exact_match", 0), ("bleu", 0.4)]),
    ("TruthfulQA", 2, "Model-B", 0, [("bleu", 0.3)]),
    ("WildBench", 0, "Model-A", 0, [("wildbench_score_rescaled", 0.75)]),
    ("WildBench", 0, "Model-B", 0, [("wildbench_score_rescaled", 0.5)]),
    ("WildBench", 1, "Model-A", 0, [("wildbench_score_rescaled", 0.25)]),
    ("WildBench", 1, "Model-B", 0, [("wildbench_score_rescaled", 1.0)]),
]


def slug(name: str) -> str:
    return name.replace("_", "-").replace(" ", "-").lower()


def item_id(benchmark: str, number: int) -> str:
    return f"{slug(benchmark)}_{TIME[benchmark]}_{number}"


def response(benchmark, number, model, n, scores) -> dict:
    return {
        "response_id": f"{item_id(benchmark, number)}_{slug(model)}_{n}",
        "model": {"name": model, "size": SIZES[model], "model_adaptation": {
            "system_instruction": "", "generation_parameters": {"temperature": 0.0, "do_sample": False, "top_k": 1,
                                                                "top_p": 1.0, "max_tokens": 256}, "tools": []}},
        "item_adaptation": {"request_input": [f"Question {number} of {benchmark}"], "demonstrations": [],
                            "external_resources": []},
        "response_content": [f"Answer {n} of {model}"],
        "scores": [{"metric": {"name": metric, "models": [], "extra_artifacts": []}, "value": value}
                   for metric, value in scores],
    }


def items(plain_source: bool = False) -> list[dict]:
    keys = list(dict.fromkeys((b, i) for b, i, *_ in RESPONSES))
    return [{
        "item_id": item_id(benchmark, number),
        "item_metadata": {"source": benchmark} if plain_source else {
            "ingestion_time": TIME[benchmark], "contributor": {"name": "effbench tests"},
            "source": {"benchmark_name": benchmark, "benchmark_version": "v1", "benchmark_tags": TAGS[benchmark]}},
        "item_content": {"input": [f"Question {number} of {benchmark}"], "references": ["a reference"]},
        "responses": [response(*r) for r in RESPONSES if (r[0], r[1]) == (benchmark, number)],
        "schema_version": "v0.1.0",
    } for benchmark, number in keys]


def write_tables(folder: Path, plain_source: bool = False) -> None:
    """The Hugging Face layout: bench/, item/, response/; scores as a struct of lists, as `datasets` stores them."""
    con = duckdb.connect()
    for table in ("bench", "item", "response"):
        (folder / table).mkdir(parents=True, exist_ok=True)
    bench = [{"benchmark_name": b, "benchmark_version": "v1", "paper_url": None, "dataset_url": None,
              "benchmark_tags": TAGS[b]} for b in TIME]
    item_rows = [{k: v for k, v in item.items() if k != "responses"} for item in items(plain_source)]
    response_rows = []
    for item in items(plain_source):
        for r in item["responses"]:
            r = dict(r)
            r["model"] = dict(r["model"], model_adaptation=dict(
                r["model"]["model_adaptation"],
                generation_parameters=json.dumps(r["model"]["model_adaptation"]["generation_parameters"])))
            r["scores"] = {"metric": [s["metric"] for s in r["scores"]],
                           "value": [float(s["value"]) for s in r["scores"]]}
            response_rows.append(r)
    for table, rows in (("bench", bench), ("item", item_rows), ("response", response_rows)):
        source = folder / f"{table}.json"
        source.write_text(json.dumps(rows))
        con.execute(f"COPY (SELECT * FROM read_json(?)) TO '{folder / table / 'train-00000-of-00001.parquet'}'"
                    " (FORMAT parquet)", [str(source)])
        source.unlink()


if __name__ == "__main__":
    plain = sys.argv[1:] == ["plain-source"]
    here = Path(__file__).parent / "plain_source" if plain else Path(__file__).parent
    (here / "items").mkdir(parents=True, exist_ok=True)
    with open(here / "items" / "items.jsonl", "w") as handle:
        for item in items(plain):
            handle.write(json.dumps(item) + "\n")
    write_tables(here / "hf", plain)
