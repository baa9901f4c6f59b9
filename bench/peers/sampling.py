"""PyTorch peer of bench/sampling.cpp: one token per row of logits with log p and log q̂, as PyTorch
users write it: temperature, top-k by torch.topk, top-p by a full sort and cumsum (the
transformers warpers' recipe), softmax, torch.multinomial, then the two log-probabilities
gathered. Each run names the coopgen run it matches.
  python3 bench/peers/sampling.py [--rows 256 --vocab 50257 --top-k 50 --top-p 0.9] [--device cpu] --json FILE"""
import torch

from common import arguments, measure, write

p = arguments(__doc__)
p.add_argument("--rows", type=int, default=256)
p.add_argument("--vocab", type=int, default=50257)
p.add_argument("--temperature", type=float, default=1.0)
p.add_argument("--top-k", type=int, default=50)
p.add_argument("--top-p", type=float, default=0.9)
a = p.parse_args()

gen = torch.Generator(device=a.device).manual_seed(7)
logits = torch.empty(a.rows, a.vocab, device=a.device).uniform_(-8, 8, generator=gen)


def draw(top_k, top_p):
    z = logits / a.temperature
    if top_k:
        kth = torch.topk(z, top_k, dim=-1).values[:, -1:]
        z = z.masked_fill(z < kth, float("-inf"))
    if top_p < 1:
        s, idx = torch.sort(z, dim=-1, descending=True)
        cum = s.softmax(-1).cumsum(-1)
        drop = cum - s.softmax(-1) >= top_p  # keep up to and including the token that reaches top_p
        z = z.masked_fill(drop.scatter(-1, idx, drop), float("-inf"))
    q = z.log_softmax(-1)
    tok = torch.multinomial(q.exp(), 1, generator=gen)
    return tok, logits.log_softmax(-1).gather(-1, tok), q.gather(-1, tok)


runs = {"torch_clone": measure(lambda: logits.clone(), a.reps, device=a.device)}
runs["torch_clone"]["matches"] = "copy"
for name, k, pp in [("plain", 0, 1.0), ("top_k", a.top_k, 1.0), ("top_p", 0, a.top_p), ("top_k_top_p", a.top_k, a.top_p)]:
    runs["torch_" + name] = measure(lambda: draw(k, pp), a.reps, device=a.device)
    runs["torch_" + name]["matches"] = name
write(a.json, "sampling", {"rows": a.rows, "vocab": a.vocab, "temperature": a.temperature, "top_k": a.top_k,
                           "top_p": a.top_p}, runs, a.device)
