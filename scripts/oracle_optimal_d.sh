#!/usr/bin/env bash
# The update rules with the optimal discriminator on the synthetic oracle (docs/results.md, E1 and
# E2): every method starts from the same generator and scores its samples with the exact
# D* = p*/(p* + p) (discriminator.kind optimal; with NOISE, D*'s logit plus fixed N(0, NOISE²)
# noise per sequence), so the update rule is measured apart from any learned discriminator.
#   scripts/oracle_optimal_d.sh [SEEDS...]                    (default seeds 0 1 2; JOBS=2 at a time)
# Methods (METHODS, default all; scripts/oracle_common.sh): mle (the control), gcn_p, gcn_mix,
# gcn_guided, rml_gan, gan. Runs are OUT/METHOD-SCHEDULE-SEED; finished ones are kept.
# Variables: START (early: 20 MLE steps, runs/oracle_mle20, trained here when missing; full: the
# 3,500-step MLE checkpoint runs/oracle_mle, trained when missing; or a checkpoint folder), OUT
# (runs/oracle_opt_START), SCHEDULES ("constant"), STEPS (1000), NOISE (0), RUN_ARGS (overrides).
# Then: python3 scripts/plot.py curves OUT docs/img/NAME --metrics kl_test,nll_oracle
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build-rel/coopgen}
JOBS=${JOBS:-2}
STEPS=${STEPS:-1000}
NOISE=${NOISE:-0}
SEEDS=("${@:-0 1 2}")
export OPENBLAS_NUM_THREADS=1  # one core per run; JOBS runs side by side
START=${START:-early}
. scripts/oracle_common.sh
start=$(oracle_start "$START" "$BIN")
OUT=${OUT:-runs/oracle_opt_$START}
mkdir -p "$OUT"
common="model.init=$start train.steps=$STEPS optim.schedule.total_steps=$STEPS train.eval_every=100 train.log_every=10
        train.checkpoint_every=0 train.eval_samples=1000 discriminator.kind=optimal discriminator.logit_noise=$NOISE
        discriminator.pretrain_steps=0 ${RUN_ARGS:-}"
for seed in ${SEEDS[*]}; do
  for method in ${METHODS:-mle gcn_p gcn_mix gcn_guided rml_gan gan}; do
    for schedule in ${SCHEDULES:-constant}; do
      run="$OUT/$method-$schedule-$seed"
      grep -q "\"step\": $STEPS, \"nll_oracle\"" "$run/metrics.jsonl" 2>/dev/null && continue
      rm -rf "$run"
      set -- $(oracle_method_args "$method")
      config=$1; shift
      echo "$BIN train --config $config $* run_dir=$run seed=$seed optim.schedule.kind=$schedule" \
           "optim.schedule.warmup_steps=0 $(echo $common) > $run.log 2>&1"
    done
  done
done | run_jobs
echo >&2 "done: python3 scripts/plot.py curves $OUT docs/img/$(basename "$OUT") --metrics kl_test,nll_oracle"
