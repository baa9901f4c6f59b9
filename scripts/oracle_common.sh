# Sourced by the oracle experiment scripts (oracle_optimal_d.sh, oracle_learned_d.sh) and by
# text_experiments.sh: the methods they compare, the learned-D settings and the starts they share,
# defined once.

# The config and overrides of a method by name: mle (continued maximum likelihood on the training
# data: the control), gcn_p (q̂ = p), gcn_mix (q̂ = 0.5·p + 0.5·nucleus 0.9, per token), gcn_guided
# (q̂ ∝ p·D on prefixes, token by token), rml_gan (256 candidates from p, 64 resampled ∝ D), gan
# (REINFORCE, mean-reward baseline).
oracle_method_args() {
  case "$1" in
    mle) echo "configs/oracle_gcn.yaml method=mle" ;;
    gcn_p) echo "configs/oracle_gcn.yaml" ;;
    gcn_mix) echo "configs/oracle_gcn.yaml adversarial.proposal.top_p=0.9 adversarial.proposal.mix=0.5" ;;
    gcn_guided) echo "configs/oracle_gcn.yaml decoding.decoder=guided decoding.weights=importance" ;;
    rml_gan) echo "configs/oracle_rml_gan.yaml" ;;
    gan) echo "configs/oracle_gan.yaml adversarial.baseline=true" ;;
    *) echo "unknown method $1" >&2; return 2 ;;
  esac
}

# The overrides of a learned-D setting by name (E3, docs/results.md), on top of a causal D that
# also learns prefixes (so the guided proposal can use it): d_base (k = 1 step per generator step on
# fakes of p), d_proposal (fakes from the proposal), d_k5 (k = 5), d_gate (pre-training continued
# until D's accuracy over 20 batches reaches 0.8, at most 2,000 steps), d_all (all three remedies).
learned_d_args() {
  local base="discriminator.kind=learned discriminator.causal=true discriminator.prefix_fraction=0.5"
  local proposal="discriminator.fakes=proposal" k5="discriminator.steps=5"
  local gate="discriminator.warmup_until_accuracy=0.8 discriminator.warmup_max_steps=2000"
  case "$1" in
    d_base) echo "$base" ;;
    d_proposal) echo "$base $proposal" ;;
    d_k5) echo "$base $k5" ;;
    d_gate) echo "$base $gate" ;;
    d_all) echo "$base $proposal $k5 $gate" ;;
    *) echo "unknown learned-D variant $1" >&2; return 2 ;;
  esac
}

# The checkpoint folder of a start by name, trained with BINARY when missing: early (20 MLE steps,
# runs/oracle_mle20), full (MLE*: configs/oracle_mle.yaml's best-validation checkpoint,
# runs/oracle_mle/checkpoint_best), or a folder.
oracle_start() {  # NAME BINARY
  case "$1" in
    early)
      [ -d runs/oracle_mle20/checkpoint ] || "$2" train --config configs/oracle_mle.yaml train.steps=20 \
        optim.schedule.total_steps=20 optim.schedule.warmup_steps=5 train.checkpoint_every=0 run_dir=runs/oracle_mle20 \
        > runs/oracle_mle20.log 2>&1
      echo runs/oracle_mle20/checkpoint ;;
    full)
      python3 scripts/grid.py finished runs/oracle_mle ||
        "$2" train --config configs/oracle_mle.yaml --overwrite > runs/oracle_mle.log 2>&1
      echo runs/oracle_mle/checkpoint_best ;;
    *) echo "$1" ;;
  esac
}

# Runs the command lines read from standard input, JOBS at a time; with PRINT=1 prints them
# instead (with the BLAS thread count the scripts set), so several experiment scripts feed one queue:
#   { PRINT=1 START=full scripts/oracle_optimal_d.sh 1; PRINT=1 scripts/oracle_learned_d.sh 0; } | xargs -P 2 -I{} sh -c '{}'
run_jobs() {
  if [ "${PRINT:-0}" = 1 ]; then sed "s/^/export OPENBLAS_NUM_THREADS=$OPENBLAS_NUM_THREADS; /"
  else xargs -P "${JOBS:-2}" -I{} sh -c '{}'; fi
}
