#!/usr/bin/env bash
# The text experiments of docs/results.md for one data set (coco | emnlp_news): from the MLE
# checkpoint runs/DATA_mle (configs/DATA_mle.yaml; trained here when missing, with MLE_ARGS),
# GAN, RML-GAN, GCN (q̂ = p) and GCN (q̂ = top-p 0.9) with configs/DATA_*.yaml, then Caccia et
# al.'s temperature sweep of MLE and of each method, and one plot of all the curves. The evaluator
# LM of the sweeps is a second MLE model (seed 1, runs/DATA_lm), so MLE's samples are not scored by
# the model that drew them. Finished runs and sweeps are kept, so the script can be stopped and started again.
#   scripts/text_experiments.sh DATA [ALPHAS] [REVERSE_STEPS]   (JOBS=2 runs at a time; MLE_ARGS and
#   RUN_ARGS: key=value overrides for the MLE runs and for the methods' runs; PLOT: the plot's name in docs/img;
#   PRINT=1: print the methods' runs for a queue instead, scripts/oracle_common.sh)
# METHODS (default "gan rml_gan gcn gcn_top_p", each configs/DATA_METHOD.yaml) may also name E3's
# learned-D runs (docs/results.md) as gcn+VARIANT or gcn_guided+VARIANT: configs/DATA_gcn.yaml with
# a causal D in that setting (scripts/oracle_common.sh, learned_d_args), q̂ = p or the D-guided
# proposal; e.g. METHODS="gcn+d_base gcn_guided+d_base gcn+d_gate gcn_guided+d_gate".
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: text_experiments.sh coco|emnlp_news [ALPHAS] [REVERSE_STEPS]}
alphas=${2:-0.9,1,1.5,2,3}
reverse_steps=${3:-300}
BIN=${BIN:-build-rel/coopgen}
JOBS=${JOBS:-2}
export OPENBLAS_NUM_THREADS=1
. scripts/oracle_common.sh
methods=${METHODS:-gan rml_gan gcn gcn_top_p}
# The config and overrides of a run by name (see METHODS above).
text_method_args() {
  local d
  case "$1" in
    gcn+*) d=$(learned_d_args "${1#*+}") || return 2; echo "configs/${data}_gcn.yaml $d" ;;
    gcn_guided+*) d=$(learned_d_args "${1#*+}") || return 2
      echo "configs/${data}_gcn.yaml decoding.decoder=guided decoding.weights=importance $d" ;;
    *) [ -f "configs/${data}_$1.yaml" ] || { echo "unknown method $1 (no configs/${data}_$1.yaml)" >&2; return 2; }
      echo "configs/${data}_$1.yaml" ;;
  esac
}
for method in $methods; do text_method_args "$method" > /dev/null; done  # every name checked before a run starts
mle=runs/${data}_mle
lm=runs/${data}_lm
[ -d "$mle/checkpoint" ] || "$BIN" train --config "configs/${data}_mle.yaml" ${MLE_ARGS:-} > "$mle.log" 2>&1
[ -d "$lm/checkpoint" ] ||
  "$BIN" train --config "configs/${data}_mle.yaml" seed=1 run_dir="$lm" ${MLE_ARGS:-} > "$lm.log" 2>&1
for method in $methods; do
  run=runs/${data}_$method
  [ -f "$run/sweep/sweep.csv" ] && continue
  args="$(text_method_args "$method") run_dir=$run"
  echo "{ $BIN train --config $args --overwrite ${RUN_ARGS:-} > $run.log 2>&1 &&" \
       "$BIN sweep --config $args --lm-checkpoint $lm/checkpoint --alphas $alphas" \
       "--reverse-steps $reverse_steps > $run.sweep.log 2>&1; }"
done | run_jobs
[ "${PRINT:-0}" = 1 ] && exit 0  # the runs were printed for a queue, not run: nothing to sweep yet
[ -f "$mle/sweep/sweep.csv" ] ||
  "$BIN" sweep --config "configs/${data}_mle.yaml" --lm-checkpoint "$lm/checkpoint" --alphas "$alphas" \
    --reverse-steps "$reverse_steps" > "$mle.sweep.log" 2>&1
python3 scripts/plot.py sweep "docs/img/${PLOT:-${data}_sweep}.png" "$mle" $(for m in $methods; do echo runs/${data}_$m; done)
