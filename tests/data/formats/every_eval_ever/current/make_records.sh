#!/usr/bin/env bash
# Write the Every Eval Ever records under records/ by converting the lm-eval re-run in
# tests/data/formats/lm_eval/current/rerun with every_eval_ever's own converter, one results file at a
# time, as a user converting each run would. Run from the repository's root with the release named in
# README.md installed in a virtual environment of its own (it needs Python 3.12 or later):
#   python3.12 -m venv /tmp/eee && /tmp/eee/bin/pip install every-eval-ever==0.3.0
#   EEE_PYTHON=/tmp/eee/bin/python bash tests/data/formats/every_eval_ever/current/make_records.sh
set -euo pipefail
here=tests/data/formats/every_eval_ever/current
python=${EEE_PYTHON:-python}
export HF_HUB_OFFLINE=1
rm -rf "$here/records"
for results in tests/data/formats/lm_eval/current/rerun/local__dummy/results_*.json; do
  "$python" -m every_eval_ever convert lm_eval --log_path "$results" --output_dir "$here/records" \
    --source_organization_name effbench-tests --evaluator_relationship other --include_samples
done
