#!/usr/bin/env bash
# The synthetic-oracle experiments of docs/results.md. From the MLE checkpoint of
# configs/oracle_mle.yaml, one discriminator is pre-trained (configs/oracle_gcn.yaml with
# train.steps 0), and every run starts from that same generator and discriminator: GAN, RML-GAN,
# GCN (q̂ = p) and GCN (q̂ = top-p 0.9), each at a constant and a cosine-decayed learning rate, for
# each seed. Runs already finished are kept, so the script can be stopped and started again.
#   scripts/oracle_experiments.sh [SEEDS...]   (default: 0 1 2; JOBS=2 runs at a time)
# Then: python3 scripts/plot.py curves runs/oracle_exp docs/img/oracle
# Variables: START (the generator checkpoint; default MLE*, runs/oracle_mle/checkpoint_best, trained here
# when missing), OUT (runs/oracle_exp), CONFIGS ("gan rml_gan gcn gcn_top_p": configs/oracle_*.yaml),
# SCHEDULES ("constant cosine"), D_ARGS and RUN_ARGS (extra overrides for the discriminator
# pre-training and for every run). The cooperative-decoding runs of docs/results.md:
#   OUT=runs/oracle_mcts CONFIGS="gcn gcn_top_p gcn_mcts gcn_mcts_uniform" SCHEDULES=constant \
#   D_ARGS=discriminator.prefix_fraction=0.5 RUN_ARGS=discriminator.prefix_fraction=0.5 scripts/oracle_experiments.sh 0
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build-rel/coopgen}
OUT=${OUT:-runs/oracle_exp}
JOBS=${JOBS:-2}
SEEDS=("${@:-0 1 2}")
export OPENBLAS_NUM_THREADS=1  # one core per run; JOBS runs side by side
mkdir -p "$OUT"
START=${START:-runs/oracle_mle/checkpoint_best}
[ -d "$START" ] || "$BIN" train --config configs/oracle_mle.yaml run_dir="${START%/checkpoint*}" --overwrite > "$OUT/mle.log" 2>&1
[ -d "$OUT/d_pretrain/checkpoint" ] ||
  "$BIN" train --config configs/oracle_gcn.yaml run_dir="$OUT/d_pretrain" train.steps=0 train.eval_every=0 \
    model.init="$START" ${D_ARGS:-} > "$OUT/d_pretrain.log" 2>&1
for seed in ${SEEDS[*]}; do
  for config in ${CONFIGS:-gan rml_gan gcn gcn_top_p}; do
    for schedule in ${SCHEDULES:-constant cosine}; do
      run="$OUT/$config-$schedule-$seed"
      grep -q '"step": 300, "nll_oracle"' "$run/metrics.jsonl" 2>/dev/null && continue
      rm -rf "$run"
      echo "$BIN train --config configs/oracle_$config.yaml run_dir=$run seed=$seed optim.schedule.kind=$schedule" \
           "model.init=$START discriminator.init_checkpoint=$OUT/d_pretrain/checkpoint" \
           "discriminator.pretrain_steps=0 ${RUN_ARGS:-}" \
           "discriminator.init_from_generator=false > $run.log 2>&1"
    done
  done
done | xargs -P "$JOBS" -I{} sh -c '{}'
echo "done: python3 scripts/plot.py curves $OUT docs/img/oracle"
