#!/usr/bin/env bash
# The learned discriminator on the synthetic oracle (docs/results.md, E2's learned-D point and
# E3): the methods of scripts/oracle_optimal_d.sh, now with a learned D, in settings that give it a
# chance to keep up, from the same start (default: 20 MLE steps):
#   d_base      a causal D (scores prefixes too: prefix_fraction 0.5, so the guided proposal can use
#               it), pre-trained 300 steps from scratch, then k = 1 step per generator step on fakes of p;
#   d_proposal  as d_base, its fakes drawn from the proposal GCN samples;
#   d_k5        as d_base with k = 5;
#   d_gate      as d_base, pre-training continued until D's accuracy over 20 batches reaches 0.8
#               (discriminator.warmup_until_accuracy; at most 2,000 steps);
#   d_all       the three remedies together: fakes from the proposal, k = 5, the gate.
# Every run logs D's calibration against the exact D* at each evaluation (d_corr_log_ratio,
# d_logit_mae, d_logit_sd_error). Runs are OUT/METHOD+VARIANT-SCHEDULE-SEED; finished ones are kept.
#   scripts/oracle_learned_d.sh [SEEDS...]   (default 0 1; JOBS=2 at a time)
# Variables: METHODS (d_base: gcn_p gcn_mix gcn_guided rml_gan gan; the other variants: gcn_p
# gcn_guided), VARIANTS (the first four), START (early, full or a checkpoint folder; scripts/oracle_common.sh),
# OUT (runs/oracle_learned), STEPS (1000), RUN_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build-rel/coopgen}
JOBS=${JOBS:-2}
STEPS=${STEPS:-1000}
SEEDS=("${@:-0 1}")
export OPENBLAS_NUM_THREADS=1
. scripts/oracle_common.sh
start=$(oracle_start "${START:-early}" "$BIN")
OUT=${OUT:-runs/oracle_learned}
mkdir -p "$OUT"
common="model.init=$start train.steps=$STEPS optim.schedule.total_steps=$STEPS train.eval_every=100 train.log_every=10
        train.checkpoint_every=0 train.eval_samples=1000 optim.schedule.warmup_steps=0
        discriminator.init_from_generator=false discriminator.pretrain_steps=300 ${RUN_ARGS:-}"
variants=${VARIANTS:-d_base d_proposal d_k5 d_gate}
for variant in $variants; do learned_d_args "$variant" > /dev/null; done  # checked first
for seed in ${SEEDS[*]}; do
  for variant in $variants; do
    methods=${METHODS:-$([ "$variant" = d_base ] && echo "gcn_p gcn_mix gcn_guided rml_gan gan" || echo "gcn_p gcn_guided")}
    for method in $methods; do
      run="$OUT/$method+$variant-constant-$seed"
      grep -q "\"step\": $STEPS, \"nll_oracle\"" "$run/metrics.jsonl" 2>/dev/null && continue
      rm -rf "$run"
      set -- $(oracle_method_args "$method")
      config=$1; shift
      echo "$BIN train --config $config $* $(learned_d_args "$variant") run_dir=$run seed=$seed $(echo $common) > $run.log 2>&1"
    done
  done
done | run_jobs
echo >&2 "done: python3 scripts/plot.py curves $OUT docs/img/$(basename "$OUT") --metrics kl_test,nll_oracle,d_logit_sd_error"
