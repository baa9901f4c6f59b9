#!/usr/bin/env bash
# The update rules with the optimal discriminator on the synthetic oracle (docs/results.md, E1 and
# E2): every method starts from the same generator and scores its samples with the exact
# D* = p*/(p* + p) (discriminator.kind optimal; with NOISE, D*'s logit plus fixed N(0, NOISE²)
# noise per sequence), so the update rule is measured apart from any learned discriminator.
#   scripts/oracle_optimal_d.sh [SEEDS...]                    (default seeds 0 1 2; JOBS=2 at a time)
# Methods (METHODS, default all): mle (continued maximum likelihood on the training data: the
# control), gcn_p (q̂ = p), gcn_mix (q̂ = 0.5·p + 0.5·nucleus 0.9, per token), gcn_guided (q̂ ∝ p·D*
# on prefixes, token by token), rml_gan (256 candidates from p, 64 resampled ∝ D*), gan (REINFORCE
# with D*, mean-reward baseline). Runs are OUT/METHOD-SCHEDULE-SEED; finished ones are kept.
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
case "$START" in
  early)
    start=runs/oracle_mle20/checkpoint
    [ -d "$start" ] || "$BIN" train --config configs/oracle_mle.yaml train.steps=20 optim.schedule.total_steps=20 \
      optim.schedule.warmup_steps=5 train.checkpoint_every=0 run_dir=runs/oracle_mle20 > runs/oracle_mle20.log 2>&1 ;;
  full)
    start=runs/oracle_mle/checkpoint
    [ -d "$start" ] || "$BIN" train --config configs/oracle_mle.yaml > runs/oracle_mle.log 2>&1 ;;
  *) start=$START ;;
esac
OUT=${OUT:-runs/oracle_opt_$START}
mkdir -p "$OUT"
common="model.init=$start train.steps=$STEPS optim.schedule.total_steps=$STEPS train.eval_every=100 train.log_every=10
        train.checkpoint_every=0 train.eval_samples=1000 discriminator.kind=optimal discriminator.logit_noise=$NOISE
        discriminator.pretrain_steps=0 ${RUN_ARGS:-}"
args_of() {
  case "$1" in
    mle) echo "configs/oracle_gcn.yaml method=mle" ;;
    gcn_p) echo "configs/oracle_gcn.yaml" ;;
    gcn_mix) echo "configs/oracle_gcn.yaml adversarial.proposal.top_p=0.9 adversarial.proposal.mix=0.5" ;;
    gcn_guided) echo "configs/oracle_gcn.yaml decoding.decoder=guided decoding.weights=importance" ;;
    rml_gan) echo "configs/oracle_rml_gan.yaml" ;;
    gan) echo "configs/oracle_gan.yaml adversarial.baseline=true" ;;
    *) echo "oracle_optimal_d: unknown method $1" >&2; exit 2 ;;
  esac
}
for seed in ${SEEDS[*]}; do
  for method in ${METHODS:-mle gcn_p gcn_mix gcn_guided rml_gan gan}; do
    for schedule in ${SCHEDULES:-constant}; do
      run="$OUT/$method-$schedule-$seed"
      grep -q "\"step\": $STEPS, \"nll_oracle\"" "$run/metrics.jsonl" 2>/dev/null && continue
      rm -rf "$run"
      set -- $(args_of "$method")
      config=$1; shift
      echo "$BIN train --config $config $* run_dir=$run seed=$seed optim.schedule.kind=$schedule" \
           "optim.schedule.warmup_steps=0 $(echo $common) > $run.log 2>&1"
    done
  done
done | xargs -P "$JOBS" -I{} sh -c '{}'
echo "done: python3 scripts/plot.py curves $OUT docs/img/$(basename "$OUT") --metrics kl_test,nll_oracle"
