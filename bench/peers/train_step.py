"""PyTorch peer of bench/train_step.cpp at --size gpt2 or oracle: an eager fp32 MLE step and GCN step
(q̂ = p) on a GPT-2-shaped model from Hugging Face transformers (random weights): MLE on 8 × 1024
tokens; GCN: one discriminator step (BCE, real against samples), 32 samples of 128 tokens drawn with
the KV cache (generate), scored by D, weights ∝ D normalised, the weighted log-prob step. oracle:
the oracle task's shape (d 32, 2 layers, 2 heads, V 5000, 64 × 20 tokens, 64 samples of 20), for
the CPU ratio at one thread (OMP_NUM_THREADS=1 here, OPENBLAS_NUM_THREADS=1 for coopgen).
  python3 bench/peers/train_step.py [--size gpt2|oracle|tiny] [--device cpu] --json FILE"""
import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2ForSequenceClassification, GPT2LMHeadModel

from common import arguments, measure, write

p = arguments(__doc__, reps=10)
p.add_argument("--size", default="gpt2", choices=["gpt2", "oracle", "tiny"])  # tiny: a smoke test of the script
a = p.parse_args()

if a.size == "gpt2":
    batch, time, samples, sample_len, vocab, width, layers, heads = 8, 1024, 32, 128, 50257, 768, 12, 12
elif a.size == "oracle":
    batch, time, samples, sample_len, vocab, width, layers, heads = 64, 20, 64, 20, 5000, 32, 2, 2
else:
    batch, time, samples, sample_len, vocab, width, layers, heads = 2, 32, 4, 8, 101, 32, 2, 2
dev = a.device
cfg = GPT2Config(vocab_size=vocab, n_positions=time + 1, n_embd=width, n_layer=layers, n_head=heads)
torch.manual_seed(1)
g = GPT2LMHeadModel(cfg).to(dev)
d_cfg = GPT2Config(vocab_size=vocab, n_positions=time + 1, n_embd=width, n_layer=layers, n_head=heads, num_labels=1,
                   pad_token_id=0)
d = GPT2ForSequenceClassification(d_cfg).to(dev)
opt_g, opt_d = torch.optim.AdamW(g.parameters(), lr=3e-4), torch.optim.AdamW(d.parameters(), lr=3e-4)
data = torch.randint(1, vocab, (batch, time), device=dev)


def mle():
    loss = g(input_ids=data, labels=data).loss
    loss.backward()
    opt_g.step()
    opt_g.zero_grad(set_to_none=True)


def gcn():
    start = torch.zeros(samples, 1, dtype=torch.long, device=dev)
    with torch.no_grad():
        seqs = g.generate(start, do_sample=True, max_new_tokens=sample_len, min_new_tokens=sample_len, top_k=0,
                          pad_token_id=0, attention_mask=torch.ones_like(start))[:, 1:]
    real = data[:samples, :sample_len]
    logits = d(input_ids=torch.cat([real, seqs])).logits.squeeze(-1)
    labels = torch.cat([torch.ones(len(real), device=dev), torch.zeros(samples, device=dev)])
    F.binary_cross_entropy_with_logits(logits, labels).backward()
    opt_d.step()
    opt_d.zero_grad(set_to_none=True)
    with torch.no_grad():
        w = torch.sigmoid(d(input_ids=seqs).logits.squeeze(-1))
        w = w / w.sum() / sample_len
    inputs = torch.cat([start, seqs[:, :-1]], dim=1)
    nll = F.cross_entropy(g(input_ids=inputs).logits.flatten(0, 1), seqs.flatten(), reduction="none")
    (w.repeat_interleave(sample_len) * nll).sum().backward()
    opt_g.step()
    opt_g.zero_grad(set_to_none=True)


write(a.json, "train_step", {"d_model": width, "layers": layers, "vocab": vocab, "batch": batch, "time": time,
                             "samples": samples, "sample_len": sample_len},
      {"torch_mle": measure(mle, a.reps, 2, dev), "torch_gcn": measure(gcn, a.reps, 2, dev)}, dev)
