#!/usr/bin/env bash
# Faults while a run writes its folder: a process killed (SIGKILL) in the middle of writing a
# checkpoint leaves a loadable one; a file-size limit (ulimit -f) hit while writing one gives a
# one-line error and leaves the previous checkpoint as it was; a run folder that cannot be created
# is reported before any work.
# Usage: checkpoint_faults.sh COOPGEN SRC_DIR WORK_DIR   (exit 77: no oracle data, skipped)
set -u
coopgen=$1 src=$2 work=$3
oracle=$src/../shared/data/oracle/seqgan_oracle_lstm.safetensors
[ -f "$oracle" ] || { echo "SKIPPED: no oracle at $oracle"; exit 77; }
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAILED: $1"; exit 1; }
args=(--config "$src/configs/oracle_mle.yaml" data.oracle="$oracle" data.train_size=256 data.test_size=32 data.valid_size=32
      train.eval_samples=16 train.eval_every=0 train.log_every=1 model.d_model=16 model.heads=2)

# 1. The run folder cannot be created (its parent is a file): one line, before anything else.
touch "$work/a_file"
"$coopgen" train --config "$src/configs/oracle_gcn.yaml" data.oracle="$oracle" run_dir="$work/a_file/run" \
  > "$work/nodir.log" 2>&1 && fail "a run folder inside a file was accepted"
[ "$(wc -l < "$work/nodir.log")" -eq 1 ] || { cat "$work/nodir.log"; fail "more than one line before the error"; }
grep -q "run_dir $work/a_file/run: cannot create the run folder" "$work/nodir.log" || { cat "$work/nodir.log"; fail "no error naming run_dir"; }

# 2. A file-size limit hit while the checkpoint is written: exit 1, one error line naming the file,
#    and the checkpoint of the first run unchanged and loadable.
"$coopgen" train "${args[@]}" run_dir="$work/limit" train.steps=2 > "$work/limit1.log" 2>&1 || fail "the first run failed"
before=$(sha256sum "$work/limit/checkpoint/model.safetensors" | cut -d' ' -f1)
( ulimit -f 64; "$coopgen" train "${args[@]}" run_dir="$work/limit" train.steps=4 --resume ) > "$work/limit2.log" 2>&1 &&
  fail "a checkpoint larger than the file-size limit was written"
tail -1 "$work/limit2.log" | grep -q "coopgen: error: .*checkpoint.tmp/model.safetensors: write failed: File too large" ||
  { cat "$work/limit2.log"; fail "no one-line error naming the file"; }
after=$(sha256sum "$work/limit/checkpoint/model.safetensors" | cut -d' ' -f1)
[ "$before" = "$after" ] || fail "the previous checkpoint changed"
"$coopgen" inspect "$work/limit/checkpoint" > /dev/null || fail "the previous checkpoint does not load"

# 3. SIGKILL at random moments of a run that writes a checkpoint every step (so most kills land
#    while one is written): each time the checkpoint folder loads, and the run resumes from it.
"$coopgen" train "${args[@]}" run_dir="$work/kill" train.steps=1 train.checkpoint_every=1 > "$work/kill0.log" 2>&1 ||
  fail "the first step failed"
for k in $(seq 1 12); do
  "$coopgen" train "${args[@]}" run_dir="$work/kill" train.steps=100000 train.checkpoint_every=1 --resume \
    > "$work/kill$k.log" 2>&1 &
  pid=$!
  # A random moment within the first second of the loop: wait for its first step line, since a fixed
  # delay from the start lands before the loop on a loaded machine (an ASan build beside experiments).
  for _ in $(seq 1 1200); do
    if grep -q '^step ' "$work/kill$k.log" 2>/dev/null || ! kill -0 $pid 2>/dev/null; then break; fi
    sleep 0.05
  done
  sleep "0.$(( RANDOM % 10 ))$(( RANDOM % 10 ))"
  kill -KILL $pid
  wait $pid 2>/dev/null
  "$coopgen" inspect "$work/kill/checkpoint" > "$work/inspect$k.log" 2>&1 ||
    { cat "$work/inspect$k.log"; fail "after SIGKILL $k the checkpoint does not load"; }
done
step=$(sed -n 's/.*"step": \([0-9.e+]*\).*/\1/p' "$work/kill/checkpoint/trainer_state.json")
[ "${step%.*}" -gt 6 ] || fail "the killed runs wrote few checkpoints (last at step $step): the kills came before the loop"
echo "run folder refused up front; file-size limit: one line, previous checkpoint intact; 12 SIGKILLs: the checkpoint always loads (last at step $step)"
