"""GPT-2 checkpoints in and out of coopgen, against Hugging Face transformers and a float64 NumPy
GPT-2 written here from the paper's equations (independent of both).

1. transformers builds a random GPT-2 (2 layers, d 64, 4 heads, vocabulary 1,000, 64 positions;
   weights drawn wider than GPT-2's init so that every term moves the logits) and saves it with
   save_pretrained. coopgen reads it (`coopgen logits --checkpoint hf_gpt2:DIR`) on 8 sequences of
   lengths 1 to 64: its f32 logits must match the float64 reference to 1e-4 relative (max |Δ| over
   max |logit|; transformers' own logits must too, which checks the reference). Negative control:
   the same folder with the query and key projections of c_attn swapped must fail that comparison.
   With --cuda (COOPGEN has the CUDA backend: a GPU build, or the emulator's), the same on
   --device cuda in f32 and with precision=bf16 (relative RMS error under 2⁻⁵), and no part 2.
2. A BPE of 1,000 tokens trained with `tokenizers` on COCO (tests/reference_tools.py) and that
   GPT-2. A run of 0 steps from hf_gpt2:DIR, exported (`coopgen export --format hf_gpt2`), gives
   back every tensor of the original bit for bit. coopgen's NLL-test at step 0 of a GCN run started from hf_gpt2:DIR (generator and
   discriminator body) on the BPE-encoded first 1,000 lines of COCO's test set must equal transformers' (float64) on
   the same lines encoded by `tokenizers`, with <|endoftext|> before and after each line. The
   run trains 30 GCN steps; `coopgen export --format hf_gpt2` of its checkpoint must load in
   GPT2LMHeadModel.from_pretrained with no missing, unexpected or mismatched weights, differ from
   the start (it trained), and give coopgen's logits of that checkpoint within 2e-4.
Usage: gpt2_interop.py COOPGEN SHARED_DIR [--cuda]. Exits 77 (CTest: Skipped) without the
COCO data, or without torch / transformers / tokenizers (a failure under
COOPGEN_REQUIRE_REFERENCES=1: tests/reference_tools.py).
"""
import json
import math
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_tools import Checks, lines_of, skip, train_gpt2_bpe  # noqa: E402

try:
    import numpy as np
    import torch
    import transformers
    from safetensors.numpy import load_file
except ImportError as e:
    skip(f"the python3 package {e.name} is not installed (scripts/install_deps.sh --with-torch)")

coopgen, shared = sys.argv[1], sys.argv[2]
cuda = sys.argv[3:] == ["--cuda"]
if cuda and "cuda: available" not in subprocess.run([coopgen, "devices"], capture_output=True, text=True).stdout:
    skip(f"{coopgen} sees no CUDA device", required=False)
coco = os.path.join(shared, "data", "coco")
if not os.path.exists(os.path.join(coco, "train.txt")):
    skip(f"no COCO data under {coco}", required=False)
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = 1e-4  # relative: max |Δ| / max |reference logit|
check = Checks()


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout[-2000:], r.stderr[-4000:])
        sys.exit(f"FAILED: {' '.join(map(str, args))} exited {r.returncode}")
    return r


def reference_logits(sd, cfg, ids):
    """GPT-2 (Radford et al. 2019) in float64: pre-LayerNorm blocks, causal softmax(QKᵀ/√d)V,
    tanh GELU MLP, final LayerNorm, logits against the token embedding. sd: HF names → arrays."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in sd.items()}
    d, heads, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    dh, T = d // heads, len(ids)

    def layer_norm(x, name):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]

    def conv1d(x, name):  # HF Conv1D: y = x W + b, W [in, out]
        return x @ w[name + ".weight"] + w[name + ".bias"]

    h = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:T]
    causal = np.triu(np.full((T, T), -np.inf), 1)
    for l in range(cfg["n_layer"]):
        p = f"transformer.h.{l}."
        qkv = conv1d(layer_norm(h, p + "ln_1"), p + "attn.c_attn")
        q, k, v = (qkv[:, i * d:(i + 1) * d].reshape(T, heads, dh).transpose(1, 0, 2) for i in range(3))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh) + causal
        a = np.exp(s - s.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        h = h + conv1d((a @ v).transpose(1, 0, 2).reshape(T, d), p + "attn.c_proj")
        x = conv1d(layer_norm(h, p + "ln_2"), p + "mlp.c_fc")
        x = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
        h = h + conv1d(x, p + "mlp.c_proj")
    return layer_norm(h, "transformer.ln_f") @ w["transformer.wte.weight"].T


def coopgen_logits(binary, checkpoint, seqs, tmp, *overrides):
    ids_file, out = os.path.join(tmp, "ids.txt"), os.path.join(tmp, "logits.safetensors")
    with open(ids_file, "w") as f:
        f.write("".join(" ".join(map(str, s)) + "\n" for s in seqs))
    run(binary, "logits", "--config", os.path.join(repo, "configs/coco_mle.yaml"), "--checkpoint", checkpoint,
        "--ids", ids_file, "--out", out, "--overwrite", f"run_dir={tmp}/logits_run", *overrides)
    t = load_file(out)
    return [t[f"logits.{i}"].astype(np.float64) for i in range(len(seqs))]


def rel_error(got, want):
    return max(float(np.abs(g - w).max()) for g, w in zip(got, want)) / max(float(np.abs(w).max()) for w in want)


def torch_logits(model, seqs):
    with torch.no_grad():
        return [model(torch.tensor([s])).logits[0].double().numpy() for s in seqs]


def check_training_and_export(tmp, hf):
    """Part 2: a BPE trained on COCO, NLL-test against transformers, 30 GCN steps, export."""
    bpe = os.path.join(tmp, "bpe")
    os.makedirs(bpe)
    tok = train_gpt2_bpe([os.path.join(coco, "train.txt")], 1000, bpe)
    eot = tok.token_to_id("<|endoftext|>")
    # The first 1,000 lines of COCO's test set: the float64 NLL is a tenth of the whole's time and
    # checks the same sums; the runs below evaluate on the same file.
    test_file = os.path.join(tmp, "test.txt")
    with open(test_file, "w", encoding="utf-8", newline="") as f:
        f.write("".join(l + "\n" for l in lines_of(os.path.join(coco, "test.txt"))[:1000]))
    test = [e.ids for e in tok.encode_batch([l for l in lines_of(test_file) if l.split()])]
    test = [s for s in test if len(s) <= 63]  # coopgen skips lines longer than its positions, less the start token
    run_dir = os.path.join(tmp, "zero_steps")
    run(coopgen, "train", "--config", os.path.join(repo, "configs/coco_mle.yaml"), f"run_dir={run_dir}",
        f"model.init=hf_gpt2:{hf}", "data.tokenizer.kind=gpt2_bpe", f"data.tokenizer.vocab={bpe}/vocab.json",
        f"data.tokenizer.merges={bpe}/merges.txt", f"data.train_file={coco}/train.txt", f"data.test_file={test_file}",
        "train.steps=0", "train.eval_samples=10")
    run(coopgen, "export", "--format", "hf_gpt2", os.path.join(run_dir, "checkpoint"), os.path.join(tmp, "round_trip"))
    original, back = load_file(os.path.join(hf, "model.safetensors")), load_file(os.path.join(tmp, "round_trip", "model.safetensors"))
    same = [k for k in original if k in back and np.array_equal(original[k], back[k])]
    check(len(same) == len(original) == len(back),
          f"hf_gpt2 → coopgen checkpoint → export: {len(same)} of {len(original)} tensors bit-identical ({len(back)} written)")
    model64 = model.double()
    nll, tokens = 0.0, 0
    with torch.no_grad():
        for s in test:
            x = torch.tensor([[eot] + s + [eot]])
            logp = torch.log_softmax(model64(x[:, :-1]).logits[0], -1)
            nll -= float(logp[torch.arange(len(s) + 1), x[0, 1:]].sum())
            tokens += len(s) + 1
    run_dir = os.path.join(tmp, "gcn")
    run(coopgen, "train", "--config", os.path.join(repo, "configs/coco_gcn.yaml"), f"run_dir={run_dir}",
        f"model.init=hf_gpt2:{hf}", f"discriminator.init_checkpoint=hf_gpt2:{hf}", "data.tokenizer.kind=gpt2_bpe",
        f"data.tokenizer.vocab={bpe}/vocab.json", f"data.tokenizer.merges={bpe}/merges.txt",
        f"data.train_file={coco}/train.txt", f"data.test_file={test_file}", "train.steps=30",
        "train.batch_size=16", "adversarial.samples=16", "discriminator.batch_size=16", "discriminator.pretrain_steps=10",
        "train.eval_every=30", "train.eval_samples=50", "train.log_every=10", "optim.schedule.total_steps=30")
    metrics = [json.loads(l) for l in open(os.path.join(run_dir, "metrics.jsonl"))]
    start = next(m for m in metrics if m["step"] == 0 and "nll_test" in m)
    check(abs(start["nll_test"] - nll / tokens) < 1e-4 * nll / tokens,
          f"NLL-test of the GPT-2 on BPE-encoded COCO ({len(test)} lines, {tokens} tokens): coopgen {start['nll_test']:.6f}, "
          f"transformers float64 {nll / tokens:.6f}")
    losses = [m["loss"] for m in metrics if "loss" in m]
    check(len(losses) >= 3 and all(math.isfinite(x) for x in losses), f"30 GCN steps ran, losses {losses}")
    out = os.path.join(tmp, "exported")
    run(coopgen, "export", "--format", "hf_gpt2", os.path.join(run_dir, "checkpoint"), out)
    back, info = transformers.GPT2LMHeadModel.from_pretrained(out, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v}
    check(not problems, f"from_pretrained(exported): missing/unexpected/mismatched weights {problems or 'none'}")
    check(back.config.bos_token_id == eot and back.config.eos_token_id == eot,
          f"exported bos/eos token ids {back.config.bos_token_id}/{back.config.eos_token_id} are <|endoftext|> ({eot})")
    with torch.no_grad():
        moved = float((back.transformer.h[0].attn.c_attn.weight.double() - model64.transformer.h[0].attn.c_attn.weight).abs().max())
    check(moved > 1e-6, f"the exported weights moved from the start by up to {moved:.2e} (it trained)")
    seqs = [rng.integers(0, 1000, n).tolist() for n in (5, 40)]
    got = coopgen_logits(coopgen, os.path.join(run_dir, "checkpoint"), seqs, tmp)
    theirs = torch_logits(back.double().eval(), seqs)
    check(rel_error(got, theirs) < TOL, f"exported checkpoint in transformers vs coopgen: relative error {rel_error(got, theirs):.2e} (< {TOL})")


torch.manual_seed(0)
rng = np.random.default_rng(0)
config = transformers.GPT2Config(vocab_size=1000, bos_token_id=0, eos_token_id=0, n_positions=64, n_embd=64, n_layer=2, n_head=4,
                                 activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
model = transformers.GPT2LMHeadModel(config).eval()
with torch.no_grad():  # wider than GPT-2's init (std 0.02), LayerNorm gains and biases not 1 and 0
    for name, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(1.0 if name.endswith("ln_1.weight") or name.endswith("ln_2.weight")
                                            or name.endswith("ln_f.weight") else 0.0, 0.2, tuple(p.shape))))
cfg = config.to_dict()

with tempfile.TemporaryDirectory() as tmp:
    hf = os.path.join(tmp, "hf")
    model.save_pretrained(hf)
    sd = {k: v.numpy() for k, v in model.state_dict().items()}
    seqs = [rng.integers(0, 1000, n).tolist() for n in (1, 2, 7, 16, 31, 33, 50, 64)]
    want = [reference_logits(sd, cfg, s) for s in seqs]
    scale = float(np.sqrt(np.mean(np.concatenate([x.ravel() for x in want]) ** 2)))
    print(f"random GPT-2, logits RMS {scale:.3f}; sequences of {[len(s) for s in seqs]} tokens")
    check(rel_error(torch_logits(model, seqs), want) < TOL,
          f"transformers vs float64 reference: relative error {rel_error(torch_logits(model, seqs), want):.2e} (< {TOL})")
    got = coopgen_logits(coopgen, f"hf_gpt2:{hf}", seqs, tmp)
    check(rel_error(got, want) < TOL, f"coopgen CPU vs float64 reference: relative error {rel_error(got, want):.2e} (< {TOL})")
    with torch.no_grad():  # the negative control: q and k swapped in every c_attn, saved as a folder
        swapped = transformers.GPT2LMHeadModel(config).eval()
        swapped.load_state_dict(model.state_dict())
        for block in swapped.transformer.h:
            for p in (block.attn.c_attn.weight, block.attn.c_attn.bias):
                q = p[..., :64].clone()
                p[..., :64] = p[..., 64:128]
                p[..., 64:128] = q
    swapped.save_pretrained(os.path.join(tmp, "hf_swapped"))
    bad = coopgen_logits(coopgen, f"hf_gpt2:{tmp}/hf_swapped", seqs, tmp)
    check(rel_error(bad, want) > 100 * TOL,
          f"negative control (q and k swapped in the folder) fails the comparison: relative error {rel_error(bad, want):.2e}")
    if cuda:
        wrong = [reference_logits({k: v.numpy() for k, v in swapped.state_dict().items()}, cfg, s) for s in seqs]
        got = coopgen_logits(coopgen, f"hf_gpt2:{hf}", seqs, tmp, "--device", "cuda")
        check(rel_error(got, want) < TOL, f"coopgen CUDA f32 vs reference: relative error {rel_error(got, want):.2e} (< {TOL})")
        got = coopgen_logits(coopgen, f"hf_gpt2:{hf}", seqs, tmp, "--device", "cuda", "precision=bf16")
        rms = float(np.sqrt(np.mean(np.concatenate([(g - w).ravel() for g, w in zip(got, want)]) ** 2))) / scale
        rms_wrong = float(np.sqrt(np.mean(np.concatenate([(g - w).ravel() for g, w in zip(got, wrong)]) ** 2))) / scale
        check(rms < 2 ** -5 < rms_wrong,
              f"coopgen CUDA bf16 vs reference: relative RMS error {rms:.2e} (< 2^-5; vs the swapped reference {rms_wrong:.2e})")

    # Part 2 (the CPU variant): COCO through a BPE and this GPT-2, 30 steps of GCN, export.
    if not cuda:
        check_training_and_export(tmp, hf)
check.finish()
