#!/usr/bin/env bash
# Run notebooks once per seed and summarise their claims (tools/claims_table.py).
#   tools/claims_sweep.sh PROFILE "SEEDS" NOTEBOOK...
# e.g. tools/claims_sweep.sh ci "0 1 2 3 4 5 6 7" notebooks/03_bahdanau.ipynb
# Claims go to _build/sweep/<profile>.jsonl (SWEEP_FILE names another), one nbval run at a
# time; a run whose claim leaves its expected state fails, and the sweep goes on. Runs are
# appended to the file: delete it to start a fresh summary.
set -u
profile=$1; seeds=$2; shift 2
python=${PYTHON:-.venv/bin/python}
out=${SWEEP_FILE:-_build/sweep/$profile.jsonl}
mkdir -p "$(dirname "$out")"
# Absolute: the notebooks run inside notebooks/, where a relative path would point elsewhere.
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
status=0
for notebook in "$@"; do
  for seed in $seeds; do
    started=$(date +%s)
    if ATTNCOURSE_PROFILE=$profile ATTNCOURSE_SEED=$seed ATTNCOURSE_CLAIMS=$out TF_CPP_MIN_LOG_LEVEL=3 \
        "$python" -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env "$notebook" >"$out.$(basename "$notebook" .ipynb).$seed.log" 2>&1; then
      result=passed
    else
      result=FAILED; status=1
    fi
    echo "$notebook seed $seed ($profile): $result in $(( $(date +%s) - started )) s (log $out.$(basename "$notebook" .ipynb).$seed.log)"
  done
done
"$python" tools/claims_table.py "$out"
exit $status
