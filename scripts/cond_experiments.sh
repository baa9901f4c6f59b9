#!/usr/bin/env bash
# The conditional-generation rows of docs/results.md for one task (qg | summ): MLE from scratch
# (configs/TASK_mle.yaml, MLE_STEPS steps), then from that checkpoint GAN, GCN with q̂ = p, q̂ =
# top-p 0.9 and q̂ = MCTS (10 simulations per token, visit sampling, importance weights, D trained
# on prefixes too), STEPS generator steps each (configs/TASK_gcn.yaml with the method's overrides);
# each run is then evaluated by greedy decoding of the first EVAL test sources (NLL-test, BLEU-4,
# ROUGE-1/2/L) into runs/RUN.eval.log. Finished runs are kept, so the script can be restarted.
#   scripts/cond_experiments.sh qg|summ   (env: MLE_STEPS=2000 MLE_SCHEDULE=MLE_STEPS STEPS=150
#   MCTS_STEPS=STEPS EVAL=1000 BIN=build-rel/coopgen; MLE_SCHEDULE: the cosine schedule's length, so
#   a shorter run is the start of the longer one)
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:?usage: cond_experiments.sh qg|summ}
BIN=${BIN:-build-rel/coopgen}
MLE_STEPS=${MLE_STEPS:-2000}
MLE_SCHEDULE=${MLE_SCHEDULE:-$MLE_STEPS}
STEPS=${STEPS:-150}
MCTS_STEPS=${MCTS_STEPS:-$STEPS}
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
    optim.schedule.total_steps="$MLE_SCHEDULE" > "runs/$mle.log" 2>&1
evaluate "configs/$mle.yaml" "$mle"
declare -A variants=(
  [gan]="method=gan"
  [gcn]=""
  [gcn_top_p]="adversarial.proposal.top_p=0.9"
  [gcn_mcts]="decoding.decoder=mcts decoding.weights=importance decoding.mcts.visit_temperature=1 discriminator.prefix_fraction=0.5"
)
for v in gan gcn gcn_top_p gcn_mcts; do
  run=${task}_$v
  steps=$STEPS
  [ "$v" = gcn_mcts ] && steps=$MCTS_STEPS
  # shellcheck disable=SC2086  # the overrides are words
  [ -d "runs/$run/checkpoint" ] ||
    "$BIN" train --config "configs/${task}_gcn.yaml" run_dir="runs/$run" train.steps="$steps" \
      optim.schedule.total_steps="$steps" ${variants[$v]} > "runs/$run.log" 2>&1
  evaluate "configs/${task}_gcn.yaml" "$run" ${variants[$v]}
done
tail -n +1 runs/${task}_*.eval.log
