#!/usr/bin/env bash
# The direction that must hold on the oracle whatever the seed (docs/results.md): from a briefly
# (20 steps) MLE-trained generator, GCN with a trained discriminator lowers NLL-oracle, and
# NLL-test rises by no more than a margin. Small versions of configs/oracle_mle.yaml and
# oracle_gcn.yaml (about a minute on one core). GCN's loss never sees real data: only D's weights
# can move NLL-oracle. The start is early on purpose: there D's logits follow the oracle's
# log p*/p; from a fully trained MLE start they hardly do, and no direction is guaranteed.
# Usage: gcn_direction.sh COOPGEN SRC_DIR WORK_DIR [SEED]   (exit 77: no oracle data, skipped)
set -u
coopgen=$1 src=$2 work=$3 seed=${4:-0}
oracle=$src/../shared/data/oracle/seqgan_oracle_lstm.safetensors
[ -f "$oracle" ] || { echo "SKIPPED: no oracle at $oracle"; exit 77; }
rm -rf "$work"; mkdir -p "$work"
export OPENBLAS_NUM_THREADS=1
small=(data.oracle="$oracle" data.test_size=500 data.valid_size=500 train.eval_samples=500 seed="$seed")
"$coopgen" train --config "$src/configs/oracle_mle.yaml" "${small[@]}" run_dir="$work/mle" train.steps=20 optim.lr=3e-3 \
  optim.schedule.total_steps=20 optim.schedule.warmup_steps=5 train.checkpoint_every=0 > "$work/mle.log" 2>&1 ||
  { cat "$work/mle.log"; exit 1; }
"$coopgen" train --config "$src/configs/oracle_gcn.yaml" "${small[@]}" run_dir="$work/gcn" train.steps=100 \
  train.eval_every=100 model.init="$work/mle/checkpoint" optim.lr=1e-3 \
  discriminator.pretrain_steps=100 discriminator.init_from_generator=false discriminator.causal=false \
  > "$work/gcn.log" 2>&1 || { cat "$work/gcn.log"; exit 1; }
python3 - "$work/gcn/metrics.jsonl" <<'PY'
import json, sys
evals = [r for r in map(json.loads, open(sys.argv[1])) if "nll_oracle" in r]
start, end = evals[0], evals[-1]
print(f"step {start['step']} -> {end['step']}: NLL-oracle {start['nll_oracle']:.3f} -> {end['nll_oracle']:.3f}, "
      f"NLL-test {start['nll_test']:.3f} -> {end['nll_test']:.3f}, D accuracy real {end['d_acc_real']:.2f} "
      f"fake {end['d_acc_fake']:.2f}")
ok = end["nll_oracle"] < start["nll_oracle"] - 0.2 and end["nll_test"] < start["nll_test"] + 0.1
sys.exit(0 if ok else 1)
PY
