"""Write a small HELM suite as helm-run (v0.2-era, before schema.json was written into suites) lays it out.

No public HELM suite this small has train trials, perturbations, a valid split and a run without
per-instance stats, so this one is written by hand following HELM's code: `metrics/metric.py`
(PerInstanceStats: instance_id, perturbation, train_trial_index, stats; the run's stats.json holds
the mean over train trials of each trial's mean), `metrics/statistic.py` (Stat fields) and
`run_expander.py` (run names `group:key=value,...,model=org_name`, `stop=hash` added for some models).
Run it from this folder: `python make_suite.py`.
"""

import json
from pathlib import Path

SUITE = Path(__file__).parent / "runs" / "v0.2.2"
SCENARIO = "mmlu:subject=anatomy,method=multiple_choice_joint"
TYPOS = {"name": "typos", "robustness": True, "fairness": False, "computed_on": "perturbed", "prob": 0.05}
# exact_match of each test instance per train trial (unperturbed); davinci also has one valid-split instance and
# perturbed copies of its test instances, all wrong.
RUNS = {
    f"{SCENARIO},model=openai_davinci,data_augmentation=canonical": ("openai/davinci", {
        "id1": [1, 1], "id2": [0, 1], "id3": [0, 0]}),
    f"{SCENARIO},model=together_bloom,data_augmentation=canonical,stop=hash": ("together/bloom", {
        "id1": [1, 0], "id2": [1, 1], "id3": [1, 0]}),
}


def stat(name: str, value: float, split: str = "test", perturbation: dict | None = None) -> dict:
    metric = {"name": name, "split": split}
    if perturbation is not None:
        metric["perturbation"] = perturbation
    return {"name": metric, "count": 1, "sum": value, "sum_squared": value * value, "min": value, "max": value,
            "mean": float(value), "variance": 0.0, "stddev": 0.0}


def run_spec(name: str, model: str, groups: list[str]) -> dict:
    return {"name": name, "scenario_spec": {"class_name": "helm.benchmark.scenarios.mmlu_scenario.MMLUScenario",
                                            "args": {"subject": "anatomy"}},
            "adapter_spec": {"method": "multiple_choice_joint", "model": model, "num_train_trials": 2,
                             "max_train_instances": 5, "temperature": 0.0},
            "metric_specs": [{"class_name": "helm.benchmark.basic_metrics.BasicMetric",
                              "args": {"names": ["exact_match", "quasi_exact_match"]}}],
            "groups": groups}


def main() -> None:
    for name, (model, scores) in RUNS.items():
        folder = SUITE / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "run_spec.json").write_text(json.dumps(run_spec(name, model, ["mmlu"]), indent=2))
        entries = []
        for trial in (0, 1):
            for instance, values in scores.items():
                entries.append({"instance_id": instance, "train_trial_index": trial,
                                "stats": [stat("exact_match", values[trial]), stat("quasi_exact_match", values[trial]),
                                          stat("num_prompt_tokens", 120)]})
            if model == "openai/davinci":
                entries.append({"instance_id": "id0", "train_trial_index": trial,
                                "stats": [stat("exact_match", 1, split="valid")]})
                for instance in scores:
                    entries.append({"instance_id": instance, "perturbation": TYPOS, "train_trial_index": trial,
                                    "stats": [stat("exact_match", 0, perturbation=TYPOS)]})
        (folder / "per_instance_stats.json").write_text(json.dumps(entries, indent=2))
        trial_means = [sum(v[t] for v in scores.values()) / len(scores) for t in (0, 1)]
        aggregate = {"name": {"name": "exact_match", "split": "test"}, "count": 2, "sum": sum(trial_means),
                     "mean": sum(trial_means) / 2}
        (folder / "stats.json").write_text(json.dumps([aggregate], indent=2))
    # A run from before per_instance_stats.json existed: only its aggregates. HELM Classic ran BoolQ on the
    # valid split, its main metric quasi_exact_match (schema_classic.yaml).
    folder = SUITE / "boolq:model=openai_davinci"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run_spec.json").write_text(json.dumps(run_spec("boolq:model=openai_davinci", "openai/davinci",
                                                              ["boolq"]), indent=2))
    aggregates = [stat("exact_match", 0.5, split="valid"), stat("quasi_exact_match", 0.625, split="valid"),
                  stat("num_prompt_tokens", 300, split="valid")]
    (folder / "stats.json").write_text(json.dumps(aggregates, indent=2))


if __name__ == "__main__":
    main()
