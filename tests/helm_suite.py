"""Write a HELM suite of several models and scenarios, laid out as helm-run writes one (run folders with
run_spec.json, per_instance_stats.json and stats.json; see tests/data/formats/helm/synthetic/make_suite.py
for the fields, taken from HELM's code). The real suites in tests/data/formats hold two models on one
scenario, too few to show how boards form; this one has the shape of a safety suite."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

MODELS = ("anthropic/claude-3-5-sonnet", "openai/gpt-4o", "google/gemini-1.5-pro", "meta/llama-3-70b",
          "mistral/mixtral-8x22b")
SCENARIOS = ("bbq", "harm_bench", "simple_safety_tests", "xstest", "anthropic_red_team")


def write_suite(root: Path, *, models=MODELS, scenarios=SCENARIOS, n_items: int = 30, seed: int = 0,
                skip: tuple[tuple[str, str], ...] = ()) -> Path:
    """Write a suite of `models` x `scenarios` (`n_items` 0/1 results each, drawn with abilities that fall
    with the model's position) under `root`/runs/v1, leaving out the runs (model, scenario) in `skip`;
    return the suite's folder."""
    rng = np.random.default_rng(seed)
    suite = root / "runs" / "v1"
    for m, model in enumerate(models):
        ability = 0.9 - 0.1 * m
        for scenario in scenarios:
            if (model, scenario) in skip:
                continue
            name = f"{scenario}:model={model.replace('/', '_')}"
            folder = suite / name
            folder.mkdir(parents=True)
            spec = {"name": name, "scenario_spec": {"class_name": f"helm.benchmark.scenarios.{scenario}", "args": {}},
                    "adapter_spec": {"method": "generation", "model": model, "num_train_trials": 1},
                    "metric_specs": [], "groups": [scenario]}
            (folder / "run_spec.json").write_text(json.dumps(spec))
            scores = (rng.random(n_items) < ability).astype(int)
            instances = [{"instance_id": f"id{i}", "train_trial_index": 0,
                          "stats": [{"name": {"name": "exact_match", "split": "test"}, "count": 1,
                                     "sum": int(s), "mean": float(s)}]} for i, s in enumerate(scores)]
            (folder / "per_instance_stats.json").write_text(json.dumps(instances))
            aggregate = [{"name": {"name": "exact_match", "split": "test"}, "count": 1,
                          "sum": float(scores.mean()), "mean": float(scores.mean())}]
            (folder / "stats.json").write_text(json.dumps(aggregate))
    return suite
