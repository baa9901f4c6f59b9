# Bad input to the coopgen command: exit code 1 and exactly one line on stderr naming the cause.
# Run by CTest: cmake -DCOOPGEN=... -DSRC=... -DWORK=... -P cli_errors.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

function(expect_error name expect)
  execute_process(COMMAND ${COOPGEN} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(STRIP "${err}" err)
  string(FIND "${err}" "\n" newline)
  string(FIND "${err}" "${expect}" found)
  if(NOT rc EQUAL 1 OR NOT newline EQUAL -1 OR found EQUAL -1)
    message(FATAL_ERROR "${name}: expected exit 1 and one line containing '${expect}', got exit ${rc}:\n${err}")
  endif()
  message(STATUS "${name}: ${err}")
endfunction()

# A run that fails after it has started (progress lines on stderr before): exit 1, and the last
# line names the cause.
function(expect_stop name expect)
  execute_process(COMMAND ${COOPGEN} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(STRIP "${err}" err)
  string(FIND "${err}" "\n" last_newline REVERSE)
  math(EXPR start "${last_newline} + 1")
  string(SUBSTRING "${err}" ${start} -1 last)
  string(FIND "${last}" "${expect}" found)
  if(NOT rc EQUAL 1 OR found EQUAL -1)
    message(FATAL_ERROR "${name}: expected exit 1 and a last line containing '${expect}', got exit ${rc}:\n${err}")
  endif()
  message(STATUS "${name}: ${last}")
endfunction()

file(WRITE ${WORK}/typo.yaml "seed: 3\noptim:\n  lr: 0.1\n  wieght_decay: 0.1\n")
expect_error(unknown_key "typo.yaml:4: optim.wieght_decay: unknown key" config --config ${WORK}/typo.yaml)
# A key twice in one mapping (yaml-cpp would keep the first silently): block and flow style.
file(WRITE ${WORK}/dup_block.yaml "run_dir: runs/x\noptim:\n  lr: 1.0e-3\noptim:\n  lr: 5.0e-5\n")
expect_error(duplicate_block_key "dup_block.yaml:4: optim: the key appears twice in one mapping" config --config ${WORK}/dup_block.yaml)
file(WRITE ${WORK}/dup_flow.yaml "seed: 1\ntrain: {steps: 10, steps: 20}\n")
expect_error(duplicate_flow_key "dup_flow.yaml:2: train.steps: the key appears twice in one mapping" config --config ${WORK}/dup_flow.yaml)
file(WRITE ${WORK}/type.yaml "optim:\n  grad_clip: yes please\n")
expect_error(wrong_type "type.yaml:2: optim.grad_clip: expected a number" config --config ${WORK}/type.yaml)
expect_error(bad_override "command-line override 'seed=-1'" config --config ${WORK}/typo.yaml seed=-1)
expect_error(missing_file "nope.yaml: no such file" config --config ${WORK}/nope.yaml)
expect_error(unknown_command "unknown command 'trian'" trian)

# A checkpoint whose model file is cut short.
execute_process(COMMAND ${COOPGEN} config --config ${SRC}/configs/base.yaml RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configs/base.yaml does not load")
endif()
# A checkpoint whose model file was cut short (as by a full disk or a killed copy).
execute_process(COMMAND ${FIXTURE} truncated ${WORK}/ckpt RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "could not write the truncated checkpoint fixture")
endif()
expect_error(truncated_checkpoint "tensor 'layer.1.w'" inspect ${WORK}/ckpt)

# Adversarial methods: configs they cannot honour are refused before any work starts.
expect_error(unknown_method "method: 'gam' is not one of: mle, gan, rml_gan, gcn" config --config ${SRC}/configs/oracle_gcn.yaml method=gam)
expect_error(gan_off_policy "adversarial.proposal: GAN's policy gradient needs samples from p"
             train --config ${SRC}/configs/oracle_gcn.yaml method=gan adversarial.proposal.top_p=0.9)
expect_error(rml_gan_candidates "adversarial.candidates (32) must be at least adversarial.samples (64)"
             train --config ${SRC}/configs/oracle_gcn.yaml method=rml_gan adversarial.candidates=32)

# Cooperative decoders as proposals: what a decoder cannot give is refused before any work starts.
expect_error(mcts_deterministic "decoding.mcts.visit_temperature is 0"
             train --config ${SRC}/configs/oracle_gcn_mcts.yaml decoding.mcts.visit_temperature=0)
expect_error(das_importance "decoding.weights importance needs q̂(y)"
             train --config ${SRC}/configs/oracle_gcn_mcts.yaml decoding.decoder=das decoding.das.sample=true)
expect_error(das_deterministic "decoding.das.sample is false"
             train --config ${SRC}/configs/oracle_gcn_mcts.yaml decoding.decoder=das decoding.weights=uniform)
expect_error(gan_with_mcts "cooperative decoders are proposals of method gcn only"
             train --config ${SRC}/configs/oracle_gcn_mcts.yaml method=gan)
expect_error(unknown_decoder "--decoder 'beam': expected one of sample, mcts, das, guided, rerank"
             sample --config ${SRC}/configs/base.yaml --decoder beam)
expect_error(guided_uniform "decoding.decoder guided draws from q̂ ∝ p·D token by token, not from q"
             train --config ${SRC}/configs/oracle_gcn.yaml decoding.decoder=guided)
expect_error(rerank_argmax_importance "reranking by argmax has not"
             train --config ${SRC}/configs/oracle_gcn.yaml decoding.decoder=rerank decoding.rerank.mode=argmax
             decoding.weights=importance)

# The optimal discriminator exists where p* is known: the oracle task.
expect_error(optimal_off_oracle "discriminator.kind optimal: D* = p*/(p* + p) needs the data distribution p*"
             train --config ${SRC}/configs/coco_gcn.yaml discriminator.kind=optimal)
expect_error(noise_on_learned "discriminator.logit_noise (0.5) applies to discriminator.kind optimal only"
             train --config ${SRC}/configs/oracle_gcn.yaml discriminator.logit_noise=0.5)
expect_error(scale_on_learned "discriminator.logit_scale (0.5) applies to discriminator.kind optimal only"
             train --config ${SRC}/configs/oracle_gcn.yaml discriminator.logit_scale=0.5)

# Numeric keys outside their range are refused when the config is read, naming key and range.
expect_error(mix_range "adversarial.proposal.mix: 1.5 is outside the allowed range [0, 1]"
             config --config ${SRC}/configs/oracle_gcn.yaml adversarial.proposal.mix=1.5)
expect_error(top_p_range "sampling.top_p: 0 is outside the allowed range (0, 1]"
             config --config ${SRC}/configs/oracle_gcn.yaml sampling.top_p=0)
expect_error(top_k_range "sampling.top_k: -5 is outside the allowed range ≥ 0"
             config --config ${SRC}/configs/oracle_gcn.yaml sampling.top_k=-5)
expect_error(top_p_above_one "adversarial.proposal.top_p: 1.5 is outside the allowed range (0, 1]"
             config --config ${SRC}/configs/oracle_gcn.yaml adversarial.proposal.top_p=1.5)
expect_error(beta2_range "optim.beta2: 1 is outside the allowed range [0, 1)"
             config --config ${SRC}/configs/oracle_gcn.yaml optim.beta2=1)
expect_error(warmup_range "discriminator.warmup_until_accuracy: 1 is outside the allowed range [0, 1)"
             config --config ${SRC}/configs/oracle_gcn.yaml discriminator.warmup_until_accuracy=1)

# A checkpoint with a NaN weight (its final layer-norm bias, as a corrupt file or a diverged run
# can leave it): sampling, evaluation and a run starting from it stop with one line naming the
# tensor, before any token is drawn.
set(oracle ${SRC}/../shared/data/oracle/seqgan_oracle_lstm.safetensors)
if(EXISTS ${oracle})
  set(tiny data.oracle=${oracle} data.train_size=64 data.test_size=16 data.valid_size=16 train.eval_every=0 train.eval_samples=8
           train.log_every=0 model.d_model=16 model.heads=2)
  execute_process(COMMAND ${COOPGEN} train --config ${SRC}/configs/oracle_mle.yaml ${tiny} train.steps=1
                  run_dir=${WORK}/nan_run RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  execute_process(COMMAND ${FIXTURE} set ${WORK}/nan_run/checkpoint lnf.b nan RESULT_VARIABLE rc2)
  if(NOT rc EQUAL 0 OR NOT rc2 EQUAL 0)
    message(FATAL_ERROR "could not write the NaN checkpoint fixture")
  endif()
  # A NaN weight is refused where the checkpoint is read, naming the tensor (the decoders' own check
  # of non-finite logits, for weights that overflow while training, is tested in test_backend.cpp).
  expect_error(nan_weight_sample "nan_run/checkpoint/model.safetensors: tensor 'lnf.b' holds a NaN or infinite value"
               sample --config ${SRC}/configs/oracle_mle.yaml ${tiny} run_dir=${WORK}/nan_run)
  expect_error(nan_weight_eval "tensor 'lnf.b' holds a NaN" eval --config ${SRC}/configs/oracle_mle.yaml ${tiny} run_dir=${WORK}/nan_run)
  expect_stop(nan_weight_init "tensor 'lnf.b' holds a NaN"
               train --config ${SRC}/configs/oracle_gcn.yaml ${tiny} discriminator.kind=optimal train.steps=2
               model.init=${WORK}/nan_run/checkpoint run_dir=${WORK}/nan_gcn)
endif()
