#!/usr/bin/env bash
# SIGINT during `coopgen train` writes a checkpoint, exits 130, and --resume continues from it.
# Usage: signal_checkpoint.sh COOPGEN SRC_DIR WORK_DIR   (exit 77: no oracle data, skipped)
set -u
coopgen=$1 src=$2 work=$3
oracle=$src/../shared/data/oracle/seqgan_oracle_lstm.safetensors
[ -f "$oracle" ] || { echo "SKIPPED: no oracle at $oracle"; exit 77; }
rm -rf "$work"; mkdir -p "$work"
args=(--config "$src/configs/oracle_mle.yaml" data.oracle="$oracle" run_dir="$work/run" data.train_size=256
      data.test_size=32 data.valid_size=32 train.eval_samples=16 train.eval_every=0 train.checkpoint_every=0 train.log_every=1
      model.d_model=16 model.heads=2)
"$coopgen" train "${args[@]}" train.steps=100000 > "$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do  # wait until training steps are being logged
  grep -q '"loss"' "$work/run/metrics.jsonl" 2>/dev/null && break
  sleep 0.1
done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || { echo "expected exit 130 after SIGINT, got $rc"; cat "$work/log"; exit 1; }
grep -q "stopped by signal 2" "$work/log" || { echo "no stop message"; cat "$work/log"; exit 1; }
step=$(sed -n 's/.*"step": \([0-9.e+]*\).*/\1/p' "$work/run/checkpoint/trainer_state.json")
[ -n "$step" ] || { echo "no checkpoint step"; exit 1; }
"$coopgen" train "${args[@]}" train.steps=$(( ${step%.*} + 2 )) --resume > "$work/log2" 2>&1 || { cat "$work/log2"; exit 1; }
grep -q "resumed from .* at step ${step%.*}" "$work/log2" || { echo "resume did not start at step $step"; cat "$work/log2"; exit 1; }
echo "SIGINT at step $step: checkpoint written, exit 130, resumed"
