#!/usr/bin/env bash
# Write the lm-eval output folders beside this script by running lm-evaluation-harness itself with its
# `dummy` model (answers "lol" to every generation, random log-likelihoods) on the tiny local tasks in
# tasks/ (a four-line JSON lines data set; nothing is downloaded). Run from the repository's root with
# the release named in README.md installed in a virtual environment of its own:
#   python -m venv /tmp/lmeval && /tmp/lmeval/bin/pip install torch==2.13.0 lm-eval==0.4.13
#   LM_EVAL=/tmp/lmeval/bin/lm_eval bash tests/data/formats/lm_eval/current/make_runs.sh
set -euo pipefail
here=tests/data/formats/lm_eval/current
lm_eval=${LM_EVAL:-lm_eval}
export HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1
rm -rf "$here/rerun" "$here/infinite"
run() { "$lm_eval" --model dummy --model_args pretrained=local/dummy --include_path "$here/tasks" --log_samples "$@"; }
# rerun/: both tasks, then tiny_qa again (a re-run into the same --output_path).
run --tasks tiny_qa,tiny_choice --output_path "$here/rerun"
sleep 1
run --tasks tiny_qa --output_path "$here/rerun"
# infinite/: a task whose second metric is infinite for one document.
run --tasks tiny_ratio --output_path "$here/infinite"
