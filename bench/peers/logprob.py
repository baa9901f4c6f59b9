"""PyTorch peer of bench/logprob.cpp: the reward-weighted token log-prob loss of the output layer,
forward + backward, as PyTorch users write it: the full logits h·Wᵀ, then F.cross_entropy per
token, weighted per sequence and masked. fp32, and on the GPU also with bf16 h and W.
  python3 bench/peers/logprob.py [--rows 16384 --vocab 50257 --dim 768] [--device cpu] --json FILE"""
import torch
import torch.nn.functional as F

from common import arguments, measure, write

p = arguments(__doc__)
p.add_argument("--rows", type=int, default=16384)
p.add_argument("--vocab", type=int, default=50257)
p.add_argument("--dim", type=int, default=768)
a = p.parse_args()

time = 64  # sequences of 64 tokens, the last 3 padded, as in bench/logprob.cpp
batch = a.rows // time
gen = torch.Generator(device=a.device).manual_seed(1)
h = torch.empty(a.rows, a.dim, device=a.device).uniform_(-1, 1, generator=gen).requires_grad_()
W = torch.empty(a.vocab, a.dim, device=a.device).uniform_(-0.05, 0.05, generator=gen).requires_grad_()
y = torch.randint(0, a.vocab, (a.rows,), device=a.device, generator=gen)
m = (torch.arange(a.rows, device=a.device) % time < time - 3).float()
w = torch.empty(batch, device=a.device).uniform_(0.5, 1.5, generator=gen).repeat_interleave(time)


def step(hx, Wx):
    loss = (w * m * F.cross_entropy(hx @ Wx.t(), y, reduction="none")).sum()
    loss.backward()
    hx.grad = Wx.grad = None


runs = {"torch_matmul_cross_entropy": measure(lambda: step(h, W), a.reps, device=a.device)}
if a.device == "cuda":  # bf16 h and W (bf16 logits), the peer of coopgen's --precision bf16
    hb, Wb = h.detach().bfloat16().requires_grad_(), W.detach().bfloat16().requires_grad_()
    runs["torch_matmul_cross_entropy_bf16"] = measure(lambda: step(hb, Wb), a.reps, device=a.device)
write(a.json, "logprob", {"rows": a.rows, "vocab": a.vocab, "dim": a.dim}, runs, a.device)
