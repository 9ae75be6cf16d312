"""Write a small lighteval output in the nested layout, following logging/evaluation_tracker.py and info_loggers.py."""
import json
import os
import shutil
from pathlib import Path

import duckdb

base = str(Path(__file__).parent / "nested")
shutil.rmtree(base, ignore_errors=True)

def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, ensure_ascii=False))

# lighteval 0.10 and later: doc / metric / model_response struct columns, tasks named <task>|<fewshot>.
model, date = "HuggingFaceTB/SmolLM2-135M", "2025-05-01T10-00-00.123456"
arc = [(1, 1), (0, 1), (1, 1), (1, 0)]
gsm = [0.0, 1.0, 0.0]
con = duckdb.connect()
folder = f"{base}/details/{model}/{date}"
os.makedirs(folder, exist_ok=True)
rows = []
for i, (acc, norm) in enumerate(arc):
    rows.append(f"({{'id': '{i}', 'task_name': 'arc:easy|0', 'query': 'Question {i}?', 'choices': ['A', 'B'], "
                f"'gold_index': 1}}, {{'acc': {acc}, 'acc_norm': {norm}}}, "
                f"{{'logprobs': [-1.5, {-2.0 + acc}], 'text': CAST([] AS VARCHAR[])}})")
con.execute(f"COPY (SELECT * FROM (VALUES {', '.join(rows)}) AS t(doc, metric, model_response)) "
            f"TO '{folder}/details_arc:easy|0_{date}.parquet' (FORMAT parquet)")
rows = []
for i, value in enumerate(gsm):
    rows.append(f"({{'id': '{i}', 'task_name': 'gsm8k|5', 'query': 'Problem {i}', 'choices': ['{i + 2}'], "
                f"'gold_index': 0}}, {{'extractive_match': {value}::DOUBLE}}, "
                f"{{'logprobs': CAST([] AS DOUBLE[]), 'text': ['The answer is {i + 2 if value else 0}']}})")
con.execute(f"COPY (SELECT * FROM (VALUES {', '.join(rows)}) AS t(doc, metric, model_response)) "
            f"TO '{folder}/details_gsm8k|5_{date}.parquet' (FORMAT parquet)")
def mean(xs):
    return sum(xs) / len(xs)
results = {
    "config_general": {"lighteval_sha": "?", "num_fewshot_seeds": 1, "max_samples": None, "job_id": "0",
                       "model_config": {"model_name": model, "revision": "main", "dtype": "bfloat16"},
                       "model_name": model},
    "results": {"arc:easy|0": {"acc": mean([a for a, _ in arc]), "acc_stderr": 0.25,
                               "acc_norm": mean([n for _, n in arc]), "acc_norm_stderr": 0.25},
                "gsm8k|5": {"extractive_match": mean(gsm), "extractive_match_stderr": 0.33},
                "ifeval|0": {"prompt_level_strict_acc": 0.4, "prompt_level_strict_acc_stderr": 0.1},
                "all": {"acc": 0.75, "extractive_match": mean(gsm), "prompt_level_strict_acc": 0.4}},
    "versions": {},
    "config_tasks": {
        "arc:easy|0": {"name": "arc:easy", "hf_repo": "allenai/ai2_arc", "hf_subset": "ARC-Easy",
                       "metrics": [{"metric_name": "acc", "higher_is_better": True, "category": "LOGPROBS",
                                    "corpus_level_fn": "mean"},
                                   {"metric_name": "acc_norm", "higher_is_better": True, "category": "LOGPROBS",
                                    "corpus_level_fn": "mean"}], "num_fewshots": 0},
        "gsm8k|5": {"name": "gsm8k", "hf_repo": "openai/gsm8k", "hf_subset": "main",
                    "metrics": [{"metric_name": "extractive_match", "higher_is_better": True,
                                 "category": "GENERATIVE", "corpus_level_fn": "mean"}], "num_fewshots": 5},
        "ifeval|0": {"name": "ifeval", "hf_repo": "google/IFEval", "hf_subset": "default",
                     "metrics": [{"metric_name": ["prompt_level_strict_acc", "inst_level_strict_acc"],
                                  "higher_is_better": {"prompt_level_strict_acc": True, "inst_level_strict_acc": True},
                                  "category": "GENERATIVE",
                                  "corpus_level_fn": {"prompt_level_strict_acc": "mean",
                                                      "inst_level_strict_acc": "agg_inst_level_acc"}}],
                     "num_fewshots": 0}},
    "summary_tasks": {}, "summary_general": {},
}
dump(f"{base}/results/{model}/results_{date}.json", results)
dump(f"{base}/details/{model}/results_{date}.json", results)  # the copy some versions keep beside the details

# lighteval before 0.10: Detail rows with example / metrics columns and no document id; <suite>|<task>|<fewshot>.
model, date = "openai-community/gpt2", "2024-03-01T09-00-00.654321"
folder = f"{base}/details/{model}/{date}"
os.makedirs(folder, exist_ok=True)
anatomy = [0.0, 1.0, 0.0, 0.0, 1.0]
rows = []
for i, value in enumerate(anatomy):
    rows.append(f"('Anatomy question {i}?', '', 'The following are questions.\\n\\nAnatomy question {i}?', 5, 5, "
                f"[[-1.0, {-2.0 + value}]]::DOUBLE[][], ['A', 'B'], [1], {{'acc': {value}::DOUBLE}})")
con.execute(f"COPY (SELECT * FROM (VALUES {', '.join(rows)}) AS t(example, instruction, full_prompt, "
            "num_effective_few_shots, num_asked_few_shots, predictions, choices, gold_index, metrics)) "
            f"TO '{folder}/details_lighteval|mmlu:anatomy|5_{date}.parquet' (FORMAT parquet)")
dump(f"{base}/results/{model}/results_{date}.json", {
    "config_general": {"lighteval_sha": "c1a2b3", "num_fewshot_seeds": 1, "override_batch_size": 1,
                       "max_samples": None, "job_id": "", "model_name": model, "model_sha": "607a30d7",
                       "model_dtype": "torch.float32", "model_size": "474.7 MB"},
    "results": {"lighteval|mmlu:anatomy|5": {"acc": mean(anatomy), "acc_stderr": 0.2449},
                "lighteval|mmlu:_average|5": {"acc": mean(anatomy), "acc_stderr": 0.2449},
                "all": {"acc": mean(anatomy), "acc_stderr": 0.2449}},
    "versions": {"lighteval|mmlu:anatomy|5": 0},
    "config_tasks": {"lighteval|mmlu:anatomy": {"name": "mmlu:anatomy", "suite": ["lighteval", "mmlu"],
                                                "hf_repo": "lighteval/mmlu", "hf_subset": "anatomy",
                                                "metric": ["loglikelihood_acc"]}},
    "summary_tasks": {}, "summary_general": {},
})
