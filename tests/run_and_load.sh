#!/usr/bin/env bash
# Bad input at run, resume, load and export (issue 31; ../shared/field-cases/run_and_load): each kind
# of input that once crashed, hung or silently lost work gets its right answer. A refusal is exit 1
# with its cause on one line (the last line on stderr; a config error the only one) naming the file
# or flag, and nothing already on disk changes (a checkpoint, metrics.jsonl, vocab.txt).
# Usage: run_and_load.sh COOPGEN SRC_DIR WORK_DIR   (exit 77: no oracle data, skipped)
set -u
coopgen=$1 src=$2 work=$3
data=$src/tests/data/run_and_load
oracle=$src/../shared/data/oracle/seqgan_oracle_lstm.safetensors
[ -f "$oracle" ] || { echo "SKIPPED: no oracle at $oracle"; exit 77; }
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
export OPENBLAS_NUM_THREADS=1
failures=0
bad() { echo "FAILED: $1"; failures=$((failures + 1)); }
cg() { timeout -s KILL 600 "$coopgen" "$@"; }

# refuse NAME EXPECT [--only-line] COMMAND...: exit 1, the last stderr line holds EXPECT (and with
# --only-line it is the only line), no source path or assertion text in it.
refuse() {
  local name=$1 expect=$2 only=0; shift 2
  [ "$1" = --only-line ] && { only=1; shift; }
  cg "$@" > "$name.out" 2> "$name.err"; local rc=$?
  local last; last=$(tail -1 "$name.err")
  if [ $rc -ne 1 ]; then bad "$name: exit $rc, expected 1 ($(tail -2 "$name.err"))"; return; fi
  case "$last" in *"$expect"*) ;; *) bad "$name: the last line '$last' does not contain '$expect'"; return;; esac
  case "$last" in *" at /"*|*".cpp:"*|*internal*) bad "$name: internal text in '$last'";; esac
  [ $only = 0 ] || [ "$(wc -l < "$name.err")" -eq 1 ] || bad "$name: more than one line on stderr: $(cat "$name.err")"
  echo "ok $name: $last"
}
same() { cmp -s "$1" "$2" || bad "$3: $1 changed"; }

cat > oracle.yaml <<EOF
device: cpu
seed: 0
run_dir: run
model: {d_model: 16, layers: 2, heads: 2, max_len: 21}
data: {task: oracle, oracle: $oracle, train_size: 64, test_size: 16, valid_size: 16}
train: {steps: 2, batch_size: 8, log_every: 1, eval_every: 0, checkpoint_every: 0, eval_samples: 8}
EOF
cat > word.yaml <<EOF
device: cpu
seed: 0
run_dir: words
model: {d_model: 32, layers: 2, heads: 2, max_len: 24}
data: {task: text, train_file: $data/tr.txt, test_file: $data/te.txt}
train: {steps: 2, batch_size: 8, log_every: 1, eval_every: 0, checkpoint_every: 0, eval_samples: 8}
EOF
# The word task with the GPT-2 folders' tokenizer.
gpt2=(--config word.yaml run_dir=gpt2run data.tokenizer.kind=gpt2_bpe data.tokenizer.vocab="$data/vocab.json"
      data.tokenizer.merges="$data/merges.txt")
cg train --config oracle.yaml > base.log 2>&1 || { cat base.log; echo "FAILED: the base run"; exit 1; }
cp -r run/checkpoint base_checkpoint; cp run/metrics.jsonl base_metrics.jsonl

# Every JSON file a run writes is JSON (no inf, no NaN): each metrics row and the trainer state.
if command -v python3 > /dev/null; then
  python3 -c 'import json, sys
for line in open("run/metrics.jsonl"): json.loads(line, parse_constant=lambda c: sys.exit("not JSON: " + c))
json.load(open("run/checkpoint/trainer_state.json"), parse_constant=lambda c: sys.exit("not JSON: " + c))' ||
    bad "metrics.jsonl or trainer_state.json is not JSON"
fi

# 1. Numbers read from a run's own files are validated (r18: a negative step segfaulted).
for v in -5 2.5 1e300; do
  rm -rf r18; cp -r run r18; sed -i "s/\"step\": 2/\"step\": $v/" r18/checkpoint/trainer_state.json
  refuse "r18_step_$v" "r18/checkpoint/trainer_state.json: 'step' is" --only-line train --config oracle.yaml run_dir=r18 --resume train.steps=4
done
rm -rf r18; cp -r run r18; sed -i 's/"model.layers": 2/"model.layers": -1/' r18/checkpoint/trainer_state.json
refuse r18_layers "'model.layers' is -1" --only-line sample --config oracle.yaml run_dir=r18 --num 2

# 2. Aliases nested in aliases expand without bound (c14 hung): refused, quickly.
{ echo "a: &a [x, x, x, x, x, x, x, x, x, x]"
  for p in a b c d e f g h i; do n=$(echo "$p" | tr a-i b-j); echo "$n: &$n [*$p, *$p, *$p, *$p, *$p, *$p, *$p, *$p, *$p, *$p]"; done
} > laughs.yaml
refuse c14_alias_bomb "the config expands to more than" --only-line config --config laughs.yaml

# 3. A checkpoint must fit the model it is loaded into (r01 dropped layers and saved over them).
refuse r01_fewer_layers "model.layers is 2, the config's is 1" --only-line train --config oracle.yaml --resume model.layers=1 train.steps=4
refuse r01_wider "model.d_model is 16, the config's is 32" --only-line train --config oracle.yaml --resume model.d_model=32 train.steps=4
refuse r01_init_fewer_layers "model.layers is 2, the config's is 1" train --config oracle.yaml run_dir=init1 model.layers=1 model.init=run/checkpoint
same run/checkpoint/model.safetensors base_checkpoint/model.safetensors r01
# A tensor the model does not use (the state's record of the shape edited away) is an error too.
rm -rf r01b; cp -r run r01b; sed -i '/"model.layers"/d' r01b/checkpoint/trainer_state.json
# (without the record, sample builds the config's one layer: the second layer's tensors are unused)
refuse r01_unused_tensor "tensor 'h.1." --only-line sample --config oracle.yaml run_dir=r01b model.layers=1 --num 2

# A weight that is NaN (a diverged run's checkpoint, a corrupt file) is refused naming the tensor:
# 4 bytes of an f32 NaN written over the first value of the data section.
rm -rf nan; cp -r run nan
n=$(od -An -t u8 -N 8 nan/checkpoint/model.safetensors | tr -d ' ')
printf '\x00\x00\xc0\x7f' | dd of=nan/checkpoint/model.safetensors bs=1 seek=$((8 + n)) conv=notrunc status=none
refuse r18_nan_weight "holds a NaN or infinite value" --only-line sample --config oracle.yaml run_dir=nan --num 2

# 4. A GPT-2 folder is checked wherever it is read (g16: two spellings of wte, one used silently).
mkdir -p g16; cp "$data/gpt2/config.json" g16/; cp "$data/gpt2_two_wte.safetensors" g16/model.safetensors
refuse g16_two_spellings "tensors 'transformer.wte.weight' and 'wte.weight' are two spellings" train "${gpt2[@]}" model.init=hf_gpt2:g16
refuse g16_as_discriminator "two spellings" train "${gpt2[@]}" run_dir=g16d method=gcn discriminator.init_checkpoint=hf_gpt2:g16
refuse g16_logits "two spellings" logits "${gpt2[@]}" --checkpoint hf_gpt2:g16 --ids "$data/te.txt" --out x.safetensors

# 5. A read-only command writes nothing into a run folder; a checkpoint's vocabulary must be the
#    one it is used with (d15 decoded with the wrong one and rewrote vocab.txt).
cg train --config word.yaml > words.log 2>&1 || bad "the word run failed: $(tail -1 words.log)"
cp words/vocab.txt vocab_before.txt
cg sample --config word.yaml --num 2 > /dev/null 2>&1 || bad "sample with the run's own data failed"
refuse d15_other_train_file "task.vocabulary is" sample --config word.yaml data.train_file="$data/te.txt" --num 3
refuse d15_other_min_count "task.vocabulary is" eval --config word.yaml data.min_count=2
same words/vocab.txt vocab_before.txt d15

# 6. A folder where a file belongs is refused (c13 trained the defaults with exit 0).
mkdir -p confdir
refuse c13_config_dir "confdir: is a folder, not a file" --only-line train --config confdir run_dir=c13
refuse c13_train_file_dir "is a folder, not a file" train --config word.yaml run_dir=c13 data.train_file=confdir
refuse c13_hyp_dir "is a folder, not a file" --only-line bleu --hyp confdir --ref "$data/te.txt"
[ ! -e c13 ] || [ ! -e c13/checkpoint ] || bad "c13: a run was trained"

# 7. Non-finite numbers are refused at parse time (c03: optim.lr=.inf trained and checkpointed).
for v in .inf -.inf .nan .Inf; do
  refuse "c03_lr_$v" "optim.lr: '$v' is not a finite number" --only-line train --config oracle.yaml run_dir=c03 "optim.lr=$v"
done
printf 'optim:\n  lr: .inf\n' > inf.yaml
refuse c03_in_file "inf.yaml:2: optim.lr: '.inf' is not a finite number" --only-line config --config inf.yaml
[ ! -e c03 ] || bad "c03: a run folder was written"

# 8. A run folder is not trained over, nor a checkpoint exported into (r21, r14).
refuse r21_train_again "run_dir run: holds a run already" --only-line train --config oracle.yaml seed=7
same run/checkpoint/model.safetensors base_checkpoint/model.safetensors r21
same run/metrics.jsonl base_metrics.jsonl r21
refuse r14_export_into_checkpoint "is the checkpoint folder being read" --only-line export --format hf_gpt2 --overwrite run/checkpoint run/checkpoint
refuse r14_export_into_checkpoint_path "is the checkpoint folder being read" --only-line export --format hf_gpt2 run/checkpoint ./run/../run/checkpoint/
same run/checkpoint/model.safetensors base_checkpoint/model.safetensors r14
cg export --format hf_gpt2 run/checkpoint exported > /dev/null 2>&1 || bad "export into a new folder failed"
echo keep > exported/notes.txt
refuse r14_export_over_export "exported/config.json exists" --only-line export --format hf_gpt2 run/checkpoint exported
cg export --format hf_gpt2 --overwrite run/checkpoint exported > /dev/null 2>&1 || bad "export --overwrite failed"
[ -f exported/notes.txt ] || bad "export --overwrite removed a file it did not write"
# Any other output file that exists, or is an input, is refused unless --overwrite (logits, enumerate, sweep).
printf '1 2 3\n' > ids.txt
refuse r14_logits_over_input "logits: ids.txt is also an input of this command" --only-line logits --config oracle.yaml --ids ids.txt --out ids.txt --overwrite
cp run/checkpoint/model.safetensors out.safetensors
refuse r14_logits_over_file "logits: out.safetensors exists" --only-line logits --config oracle.yaml --ids ids.txt --out out.safetensors
cg logits --config oracle.yaml --ids ids.txt --out out.safetensors --overwrite > /dev/null 2>&1 || bad "logits --overwrite failed"
echo keep > e.csv
refuse r14_enumerate_over_file "enumerate: e.csv exists" --only-line enumerate --out e.csv
refuse r14_flag_twice "sample: --num is given twice" --only-line sample --config oracle.yaml --num 2 --num 3
same run/checkpoint/model.safetensors base_checkpoint/model.safetensors r14_logits
cg train --config oracle.yaml --overwrite seed=7 > r21.log 2>&1 || bad "train --overwrite failed: $(tail -1 r21.log)"
[ "$(grep -c '"step": 1,' run/metrics.jsonl)" -eq 1 ] || bad "r21: --overwrite left the old run's metrics"

# 9. An override's value is the text after '=' (c30: '#' began a YAML comment).
cg config --config oracle.yaml "run_dir=runs/exp #3" | grep -qx 'run_dir: "runs/exp #3"' || bad "c30: run_dir is not 'runs/exp #3'"
cg config --config oracle.yaml "run_dir=a: b" | grep -qx 'run_dir: "a: b"' || bad "c30: run_dir is not 'a: b'"
refuse c30_number_with_comment "expected a number, got '0.1 #lower'" --only-line config --config oracle.yaml "optim.lr=0.1 #lower"

# 10. Flag numbers are whole-string, range-checked, named (h01: stoll; h09: 1e3 read as 1).
refuse h01_num_abc "--num abc: expected a whole number" --only-line sample --config oracle.yaml --num abc
refuse h01_num_zero "--num 0: expected a whole number" --only-line sample --config oracle.yaml --num 0
refuse h09_reverse_steps "--reverse-steps 1e3: expected a whole number" --only-line sweep --config oracle.yaml --lm-checkpoint run/checkpoint --alphas 1 --reverse-steps 1e3
refuse h09_alphas "--alphas 1,x" --only-line sweep --config oracle.yaml --lm-checkpoint run/checkpoint --alphas 1,x
refuse h09_bleu_max "--max 12x" --only-line bleu --hyp "$data/te.txt" --ref "$data/te.txt" --max 12x
refuse h09_enumerate "--vocab 9 and --length 9: at most 4096 sequences" --only-line enumerate --out e9.csv --vocab 9 --length 9

# 11. Sizes are bounded where they are read, with the file and key (g06 reached the allocator; c24
#     ended in assertion text; g18 printed a JSON value over two lines; f33, a fuzzer's input: a
#     model_type that is not a string ended in std::terminate).
mkdir -p g06 g18 f33; cp "$data"/gpt2/* g06/; cp "$data"/gpt2/* g18/; cp "$data"/gpt2/* f33/
sed -i 's/"n_layer": 2/"n_layer": 1000000000/' g06/config.json
sed -i 's/"gelu_new"/"gelu"/' g18/config.json
sed -i 's/"model_type": "gpt2"/"model_type": ["gpt2"]/' f33/config.json
refuse g06_huge_n_layer "g06/config.json: n_layer = 1000000000: expected a whole number from 1 to 1024" train "${gpt2[@]}" model.init=hf_gpt2:g06
refuse g06_yaml_layers "model.layers: 1000000000 is outside the allowed range" --only-line config --config oracle.yaml model.layers=1000000000
refuse g06_memory "exceeds this machine's memory" train --config oracle.yaml run_dir=g06m model.d_model=65536 model.layers=1024 model.heads=1
refuse g06_train_size "data.train_size: 1000000000000 is outside the allowed range" --only-line config --config oracle.yaml data.train_size=1000000000000
refuse g06_batch "train.batch_size (500000) × model.max_len (21) × 5000 logits per token need" --only-line train --config oracle.yaml run_dir=g06b train.batch_size=500000
refuse g06_eval_samples "train.eval_samples (100000000) × a vocabulary of 5000 logits need" --only-line train --config oracle.yaml run_dir=g06e train.eval_samples=100000000
refuse c24_heads "model.heads: 3 does not divide d_model (16)" --only-line train --config oracle.yaml run_dir=c24 model.heads=3
refuse c24_schedule "optim.schedule.total_steps: 10 must exceed warmup_steps (20)" --only-line config --config oracle.yaml \
  optim.schedule.kind=cosine optim.schedule.warmup_steps=20 optim.schedule.total_steps=10
refuse c24_batch "train.batch_size (100) must be between 1 and the data size (64)" train --config oracle.yaml run_dir=c24b train.batch_size=100
refuse f33_model_type 'f33/config.json: model_type ["gpt2"] is not gpt2' train "${gpt2[@]}" model.init=hf_gpt2:f33
refuse g18_gelu "g18/config.json: activation_function = \"gelu\" (coopgen's MLP" train "${gpt2[@]}" model.init=hf_gpt2:g18

echo "$failures failed"
[ "$failures" -eq 0 ]
