"""Write a small lm-evaluation-harness 0.4.0-layout output, following that version's __main__.py/evaluator.py."""
import json
import os
from pathlib import Path

out = str(Path(__file__).parent / "pythia-14m-v0.4.0")
os.makedirs(out, exist_ok=True)
model_args = "pretrained=EleutherAI/pythia-14m,dtype=float32"
arc = {  # doc_id -> (acc, acc_norm) per prompt
    "arc_tiny_prompt_1": [(1.0, 1.0), (0.0, 1.0), (1.0, 0.0)],
    "arc_tiny_prompt_2": [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)],
}
gsm = {"strict-match": [1.0, 0.0, 0.0, 1.0], "flexible-extract": [1.0, 1.0, 0.0, 1.0]}
questions = ["Which gas do plants take in?", "What melts ice fastest?", "Which is a mammal?"]
choices = [["oxygen", "carbon dioxide"], ["salt", "sand"], ["shark", "whale"]]
problems = ["2 + 3 = ?", "10 - 4 = ?", "6 * 7 = ?", "9 / 3 = ?"]
answers = ["5", "6", "42", "3"]

def mean(xs):
    return sum(xs) / len(xs)

results = {"tiny": {"acc,none": mean([a for t in arc.values() for a, _ in t]), "acc_stderr,none": 0.2108,
                    "acc_norm,none": mean([n for t in arc.values() for _, n in t]), "acc_norm_stderr,none": 0.2108,
                    "alias": "tiny"}}
for task, rows in arc.items():
    results[task] = {"acc,none": mean([a for a, _ in rows]), "acc_stderr,none": 0.3333,
                     "acc_norm,none": mean([n for _, n in rows]), "acc_norm_stderr,none": 0.3333,
                     "alias": f" - {task}"}
results["gsm8k_tiny"] = {"exact_match,strict-match": mean(gsm["strict-match"]),
                         "exact_match_stderr,strict-match": 0.2887,
                         "exact_match,flexible-extract": mean(gsm["flexible-extract"]),
                         "exact_match_stderr,flexible-extract": 0.25, "alias": "gsm8k_tiny"}
def arc_config(task, text):
    return {"task": task, "group": "tiny", "dataset_path": "allenai/ai2_arc", "dataset_name": "ARC-Easy",
    "test_split": "test", "doc_to_text": text, "doc_to_target": "{{choices.label.index(answerKey)}}",
    "doc_to_choice": "{{choices.text}}", "description": "", "target_delimiter": " ", "fewshot_delimiter": "\n\n",
    "num_fewshot": 0, "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True},
                                     {"metric": "acc_norm", "aggregation": "mean", "higher_is_better": True}],
    "output_type": "multiple_choice", "repeats": 1, "should_decontaminate": False, "metadata": {"version": 1.0}}
configs = {
    "arc_tiny_prompt_1": arc_config("arc_tiny_prompt_1", "Question: {{question}}\nAnswer:"),
    "arc_tiny_prompt_2": arc_config("arc_tiny_prompt_2", "{{question}}\nThe answer is"),
    "gsm8k_tiny": {"task": "gsm8k_tiny", "dataset_path": "gsm8k", "dataset_name": "main", "test_split": "test",
                   "doc_to_text": "Question: {{question}}\nAnswer:", "doc_to_target": "{{answer}}",
                   "description": "", "target_delimiter": " ", "fewshot_delimiter": "\n\n", "num_fewshot": 0,
                   "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True,
                                    "ignore_case": True, "ignore_punctuation": False}],
                   "output_type": "generate_until", "generation_kwargs": {"until": ["Question:"], "do_sample": False},
                   "repeats": 1, "filter_list": [
                       {"name": "strict-match", "filter": [
                           {"function": "regex", "regex_pattern": "#### (\\-?[0-9\\.\\,]+)"},
                           {"function": "take_first"}]},
                       {"name": "flexible-extract", "filter": [{"function": "regex", "group_select": -1,
                                                                "regex_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)"},
                                                               {"function": "take_first"}]}],
                   "should_decontaminate": False, "metadata": {"version": 3.0}},
}
data = {"results": results, "groups": {"tiny": results["tiny"]}, "configs": configs,
        "versions": {"arc_tiny_prompt_1": 1.0, "arc_tiny_prompt_2": 1.0, "gsm8k_tiny": 3.0, "tiny": "N/A"},
        "n-shot": {"arc_tiny_prompt_1": 0, "arc_tiny_prompt_2": 0, "gsm8k_tiny": 0, "tiny": 0},
        "config": {"model": "hf", "model_args": model_args, "batch_size": "1", "batch_sizes": [], "device": "cpu",
                   "use_cache": None, "limit": None, "bootstrap_iters": 100000, "gen_kwargs": None},
        "git_hash": "4600d6bf"}
with open(f"{out}/results.json", "w") as f:
    f.write(json.dumps(data, indent=2, ensure_ascii=False))
prefix = model_args.replace("/", "__").replace("=", "__")
for task, rows in arc.items():
    samples = []
    for doc_id, (acc, acc_norm) in enumerate(rows):
        doc = {"id": f"Mercury_{doc_id}", "question": questions[doc_id],
               "choices": {"text": choices[doc_id], "label": ["A", "B"]}, "answerKey": "B"}
        args = [[f"Question: {questions[doc_id]}\nAnswer:", f" {c}"] for c in choices[doc_id]]
        resps = [[[-2.5 + i * acc, bool(i)]] for i in range(2)]
        samples.append({"doc_id": doc_id, "doc": doc, "target": 1, "arguments": args, "resps": resps,
                        "filtered_resps": [r[0] for r in resps], "acc": acc, "acc_norm": acc_norm})
    with open(f"{out}/{prefix}_{task}.jsonl", "w") as f:
        f.write(json.dumps(samples, indent=2, ensure_ascii=False))
samples = []
for _filter_name, values in gsm.items():  # 0.4.0 writes every document once per filter, filter by filter
    for doc_id, value in enumerate(values):
        doc = {"question": problems[doc_id], "answer": f"#### {answers[doc_id]}"}
        reply = f" The answer is #### {answers[doc_id]}" if value else " I think 7"
        samples.append({"doc_id": doc_id, "doc": doc, "target": doc["answer"],
                        "arguments": [[f"Question: {problems[doc_id]}\nAnswer:", {"until": ["Question:"]}]],
                        "resps": [[reply]], "filtered_resps": [answers[doc_id] if value else "7"],
                        "exact_match": value})
with open(f"{out}/{prefix}_gsm8k_tiny.jsonl", "w") as f:
    f.write(json.dumps(samples, indent=2, ensure_ascii=False))
