#!/usr/bin/env bash
# Data parallelism on the CPU with Open MPI: `mpirun -np 2` and one rank with the same global batch
# reach the same parameters and optimiser states after K steps (MLE, GCN, RML-GAN), a two-rank
# checkpoint resumes on one rank, one rank under mpirun equals one rank without, and a rank that
# fails ends the whole job with a message naming it.
# Usage: mpi_ranks.sh COOPGEN IO_FIXTURE SRC_DIR WORK_DIR   (exit 77: no mpirun or no oracle data)
set -u
coopgen=$1 fixture=$2 src=$3 work=$4
oracle=$src/../shared/data/oracle/seqgan_oracle_lstm.safetensors
command -v mpirun >/dev/null || { echo "SKIPPED: no mpirun"; exit 77; }
[ -f "$oracle" ] || { echo "SKIPPED: no oracle at $oracle"; exit 77; }
"$coopgen" devices 2>/dev/null | grep -qi "mpi: no" && { echo "SKIPPED: built without MPI"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1
rm -rf "$work"; mkdir -p "$work"
args=(--config "$src/configs/oracle_mle.yaml" data.oracle="$oracle" data.train_size=256 data.test_size=32 data.valid_size=32
      train.eval_samples=16 train.eval_every=0 train.checkpoint_every=0 train.log_every=1 train.batch_size=32
      model.d_model=16 model.heads=2 train.steps=5)
fail() { echo "$1"; cat "$work"/*.log; exit 1; }
"$coopgen" train "${args[@]}" run_dir="$work/one" > "$work/one.log" 2>&1 || fail "one rank failed"
# Two ranks with 2 kB gradient buckets (a dozen per step, summed while the backward pass runs).
mpirun -np 2 "$coopgen" train "${args[@]}" run_dir="$work/two" distributed.bucket_mb=0.002 > "$work/two.log" 2>&1 ||
  fail "two ranks failed"
grep -q "2 ranks" "$work/two.log" || fail "the two-rank run did not say so"
"$fixture" compare "$work/one/checkpoint" "$work/two/checkpoint" 1e-4 || fail "1 and 2 ranks differ"
# One rank under mpirun takes the collective path end to end: the same model as without mpirun.
mpirun -np 1 "$coopgen" train "${args[@]}" run_dir="$work/one-mpi" > "$work/one-mpi.log" 2>&1 || fail "mpirun -np 1 failed"
grep -q ", 1 rank" "$work/one-mpi.log" || fail "the one-rank mpirun run did not say so"
"$fixture" compare "$work/one/checkpoint" "$work/one-mpi/checkpoint" 1e-6 || fail "mpirun -np 1 differs from a plain run"
# Resume the two-rank checkpoint on one rank, and the one-rank run alike: still equal.
"$coopgen" train "${args[@]}" run_dir="$work/two" train.steps=7 --resume > "$work/two_resumed.log" 2>&1 || fail "resume failed"
"$coopgen" train "${args[@]}" run_dir="$work/one" train.steps=7 --resume > "$work/one_resumed.log" 2>&1 || fail "resume failed"
"$fixture" compare "$work/one/checkpoint" "$work/two/checkpoint" 1e-4 || fail "resumed runs differ"
# GCN and RML-GAN: each rank samples and scores its share (the same sequences as one rank draws,
# since random numbers are addressed by global row), the weights are normalised over all ranks'
# samples, D and the generator step on their shares: the same models and optimiser states.
adv=(--config "$src/configs/oracle_gcn.yaml" data.oracle="$oracle" data.train_size=256 data.test_size=32 data.valid_size=32
     train.eval_samples=16 train.eval_every=0 train.checkpoint_every=0 train.log_every=1 train.steps=3
     model.d_model=16 model.heads=2 discriminator.model.d_model=16 discriminator.model.heads=2
     discriminator.init_from_generator=false discriminator.pretrain_steps=2 discriminator.batch_size=8
     discriminator.prefix_fraction=0.5 model.init='""' adversarial.samples=8
     adversarial.candidates=16 adversarial.mle_weight=0.5)
# GCN's D pre-training also stops early on held-out data: the ranks score shares of it and keep the
# same D (the one-rank run's), and rank 0 alone says so.
for method in gcn rml_gan; do
  extra=()
  [ $method = gcn ] && extra=(discriminator.pretrain_steps=8 discriminator.pretrain_patience=1 discriminator.pretrain_eval_every=2)
  "$coopgen" train "${adv[@]}" method=$method "${extra[@]}" run_dir="$work/$method-one" > "$work/$method-one.log" 2>&1 ||
    fail "$method on one rank failed"
  mpirun -np 2 "$coopgen" train "${adv[@]}" method=$method "${extra[@]}" run_dir="$work/$method-two" distributed.bucket_mb=0.002 \
    > "$work/$method-two.log" 2>&1 ||
    fail "$method on two ranks failed"
  "$fixture" compare "$work/$method-one/checkpoint" "$work/$method-two/checkpoint" 1e-4 || fail "$method: 1 and 2 ranks differ"
done
[ "$(grep -c 'kept the D of pre-training step' "$work/gcn-two.log")" = 1 ] || fail "2 ranks: not one 'kept the D' line"
[ "$(grep 'kept the D' "$work/gcn-one.log")" = "$(grep 'kept the D' "$work/gcn-two.log")" ] ||
  fail "1 and 2 ranks kept different D's"
# Sizes that do not split over the ranks are refused before any work (here: before D's pre-training).
mpirun -np 2 "$coopgen" train "${adv[@]}" method=gcn run_dir="$work/split" adversarial.samples=12 discriminator.pretrain_steps=1000 \
  > "$work/split.log" 2>&1 && fail "12 samples over 2 ranks were accepted"
grep -q "adversarial.samples (12) over 2 ranks gives 6 per rank" "$work/split.log" || fail "the split error does not name the key and the ranks"
grep -q "pre-training" "$work/split.log" && fail "the split error came after work had started"
# Rank 1 cannot read its data: the job ends, naming rank 1, without waiting for the timeout.
start=$(date +%s)
mpirun -np 1 "$coopgen" train "${args[@]}" run_dir="$work/fault" distributed.timeout_s=60 : \
       -np 1 "$coopgen" train "${args[@]}" run_dir="$work/fault" data.oracle="$work/missing.safetensors" \
       > "$work/fault.log" 2>&1 && fail "a failing rank did not fail the job"
grep -q "rank 1: .*missing.safetensors" "$work/fault.log" || fail "the error does not name rank 1 and the file"
[ $(( $(date +%s) - start )) -lt 50 ] || fail "the job outlived its failing rank"
# Rank 1 stops after 2 steps while rank 0 wants 5: rank 0's next collective times out.
mpirun -np 1 "$coopgen" train "${args[@]}" run_dir="$work/hang" distributed.timeout_s=10 : \
       -np 1 "$coopgen" train "${args[@]}" run_dir="$work/hang" train.steps=2 distributed.timeout_s=10 \
       > "$work/hang.log" 2>&1 && fail "a hung collective did not fail the job"
grep -q "rank 0: MPI_Allreduce.* did not finish within 10 s" "$work/hang.log" || fail "no timeout message naming rank 0"
echo "MLE, GCN and RML-GAN: 1 and 2 ranks equal (MLE also after resuming on 1 rank, and under mpirun -np 1); a failing rank and a hung collective end the job"
