#!/usr/bin/env bash
# The conditional-generation rows of docs/results.md for one task (qg | summ): MLE from scratch
# (configs/TASK_mle.yaml, MLE_STEPS steps), then from that checkpoint GAN, GCN with q̂ = p, q̂ =
# top-p 0.9 and q̂ = MCTS (10 simulations per token, visit sampling, importance weights, D trained
# on prefixes too), STEPS generator steps each (configs/TASK_gcn.yaml with the method's overrides);
# each run is then evaluated by greedy decoding of the first EVAL test sources (NLL-test, BLEU-4,
# ROUGE-1/2/L) into runs/RUN.eval.log. Finished runs are kept, so the script can be restarted.
#   scripts/cond_experiments.sh qg|summ   (env: MLE_STEPS=2000 STEPS=150 EVAL=1000 BIN=build-rel/coopgen)
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:?usage: cond_experiments.sh qg|summ}
BIN=${BIN:-build-rel/coopgen}
MLE_STEPS=${MLE_STEPS:-2000}
STEPS=${STEPS:-150}
EVAL=${EVAL:-1000}
export OPENBLAS_NUM_THREADS=1
mkdir -p runs
evaluate() {  # config run_dir overrides...
  local config=$1 run=$2; shift 2
  [ -f "runs/$run.eval.log" ] ||
    "$BIN" eval --config "$config" run_dir="runs/$run" train.eval_samples="$EVAL" "$@" > "runs/$run.eval.log" 2>&1
}
mle=${task}_mle
[ -d "runs/$mle/checkpoint" ] ||
  "$BIN" train --config "configs/$mle.yaml" train.steps="$MLE_STEPS" \
    optim.schedule.total_steps="$MLE_STEPS" > "runs/$mle.log" 2>&1
evaluate "configs/$mle.yaml" "$mle"
declare -A variants=(
  [gan]="method=gan"
  [gcn]=""
  [gcn_top_p]="adversarial.proposal.top_p=0.9"
  [gcn_mcts]="decoding.decoder=mcts decoding.weights=importance decoding.mcts.visit_temperature=1 discriminator.prefix_fraction=0.5"
)
for v in gan gcn gcn_top_p gcn_mcts; do
  run=${task}_$v
  # shellcheck disable=SC2086  # the overrides are words
  [ -d "runs/$run/checkpoint" ] ||
    "$BIN" train --config "configs/${task}_gcn.yaml" run_dir="runs/$run" train.steps="$STEPS" \
      optim.schedule.total_steps="$STEPS" ${variants[$v]} > "runs/$run.log" 2>&1
  evaluate "configs/${task}_gcn.yaml" "$run" ${variants[$v]}
done
grep -H "final eval\|^eval" runs/${task}_*.eval.log
