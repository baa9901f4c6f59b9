#!/usr/bin/env bash
# How many of GCN's M samples carry its step, with the optimal discriminator (docs/results.md, E1):
# the effective sample size (Σw)²/Σw² of the self-normalised weights w ∝ p·D*/q̂ at the early
# (20 MLE steps) and full (3,500) MLE starts, for q̂ = p, the mixture (0.5·p + 0.5·nucleus 0.9)
# and the D*-guided proposal, at M = 64, 256 and 1,024. The generator does not move (lr 0): each
# of the STEPS steps is one independent draw of M samples. The starts are those of
# scripts/oracle_optimal_d.sh (trained when missing). Prints one CSV line per cell:
# start,proposal,M,draws,mean ESS,min,max,ESS/M; writes runs/ess_study/.
#   scripts/ess_study.sh [SEEDS...]   (default 0 1; STEPS 5)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build-rel/coopgen}
STEPS=${STEPS:-5}
SEEDS=("${@:-0 1}")
export OPENBLAS_NUM_THREADS=1
OUT=runs/ess_study
. scripts/oracle_common.sh
mkdir -p "$OUT"
echo "start,proposal,M,draws,mean_ess,min_ess,max_ess,ess_over_M"
for start in early full; do
  ckpt=$(oracle_start "$start" "$BIN")
  for proposal in p mix guided; do  # gcn_p, gcn_mix, gcn_guided of scripts/oracle_common.sh
    for m in 64 256 1024; do
      for seed in ${SEEDS[*]}; do
        run=$OUT/$start-$proposal-$m-$seed
        grep -qs '"ess"' "$run/metrics.jsonl" && continue
        rm -rf "$run"
        # shellcheck disable=SC2086
        set -- $(oracle_method_args "gcn_$proposal")
        "$BIN" train --config "$@" run_dir="$run" seed="$seed" model.init="$ckpt" \
          discriminator.kind=optimal discriminator.pretrain_steps=0 optim.lr=0 adversarial.samples="$m" \
          train.steps="$STEPS" optim.schedule.total_steps="$STEPS" train.log_every=1 train.eval_every=0 \
          train.eval_samples=10 train.checkpoint_every=0 data.test_size=100 > "$run.log" 2>&1 ||
          { echo "ess_study: $run failed:" >&2; tail -3 "$run.log" >&2; exit 1; }
      done
      python3 - "$start" "$proposal" "$m" "$OUT/$start-$proposal-$m-"*/metrics.jsonl <<'PY'
import json, sys
start, proposal, m, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
ess = [r["ess"] for f in files for r in map(json.loads, open(f)) if "ess" in r]
print(f"{start},{proposal},{m},{len(ess)},{sum(ess) / len(ess):.2f},{min(ess):.2f},{max(ess):.2f},{sum(ess) / len(ess) / m:.4f}")
PY
    done
  done
done
