#!/usr/bin/env bash
# The text experiments of docs/results.md for one data set (coco | emnlp_news): from the MLE
# checkpoint runs/DATA_mle (configs/DATA_mle.yaml; trained here when missing, with MLE_ARGS),
# GAN, RML-GAN, GCN (q̂ = p) and GCN (q̂ = top-p 0.9) with configs/DATA_*.yaml, then Caccia et
# al.'s temperature sweep of MLE and of each method, and one plot of all the curves. The evaluator
# LM of the sweeps is a second MLE model (seed 1, runs/DATA_lm), so MLE's samples are not scored by
# the model that drew them. Finished runs and sweeps are kept, so the script can be stopped and started again.
#   scripts/text_experiments.sh DATA [ALPHAS] [REVERSE_STEPS]   (JOBS=2 runs at a time; MLE_ARGS and
#   RUN_ARGS: key=value overrides for the MLE runs and for the four methods' runs)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: text_experiments.sh coco|emnlp_news [ALPHAS] [REVERSE_STEPS]}
alphas=${2:-0.9,1,1.5,2,3}
reverse_steps=${3:-300}
BIN=${BIN:-build-rel/coopgen}
JOBS=${JOBS:-2}
export OPENBLAS_NUM_THREADS=1
mle=runs/${data}_mle
lm=runs/${data}_lm
[ -d "$mle/checkpoint" ] || "$BIN" train --config "configs/${data}_mle.yaml" ${MLE_ARGS:-} > "$mle.log" 2>&1
[ -d "$lm/checkpoint" ] ||
  "$BIN" train --config "configs/${data}_mle.yaml" seed=1 run_dir="$lm" ${MLE_ARGS:-} > "$lm.log" 2>&1
for method in gan rml_gan gcn gcn_top_p; do
  run=runs/${data}_$method
  [ -f "$run/sweep/sweep.csv" ] && continue
  echo "{ $BIN train --config configs/${data}_$method.yaml ${RUN_ARGS:-} > $run.log 2>&1 &&" \
       "$BIN sweep --config configs/${data}_$method.yaml --lm-checkpoint $lm/checkpoint --alphas $alphas" \
       "--reverse-steps $reverse_steps > $run.sweep.log 2>&1; }"
done | xargs -P "$JOBS" -I{} sh -c '{}'
[ -f "$mle/sweep/sweep.csv" ] ||
  "$BIN" sweep --config "configs/${data}_mle.yaml" --lm-checkpoint "$lm/checkpoint" --alphas "$alphas" \
    --reverse-steps "$reverse_steps" > "$mle.sweep.log" 2>&1
python3 scripts/plot.py sweep "docs/img/${data}_sweep.png" "$mle" runs/${data}_{gan,rml_gan,gcn,gcn_top_p}
