"""Per-document metrics of tiny_ratio: exact match, and the answer's length over the target's, which is
infinite for the last document, whose target counts as empty there (as a ratio metric can be)."""

import math


def process_results(doc, results):
    answer = results[0].strip()
    target = doc["answer"] if doc["id"] != 3 else ""
    return {
        "exact_match": float(answer == doc["answer"]),
        "length_ratio": len(answer) / len(target) if target else math.inf,
    }
