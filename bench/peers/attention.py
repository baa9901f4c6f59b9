"""PyTorch peer of bench/attention.cpp: causal attention forward + backward through
scaled_dot_product_attention, flash backend in bf16 (issue 5's reference: coopgen's attention
should reach 0.8x its throughput) and the default backend in fp32 (coopgen's kernel computes in
fp32 today), at the same shape.
  python3 bench/peers/attention.py [--batch 8 --heads 12 --time 1024 --dim 64] [--device cpu] --json FILE"""
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from common import arguments, measure, write

p = arguments(__doc__)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--time", type=int, default=1024)
p.add_argument("--dim", type=int, default=64)
a = p.parse_args()

shape = (a.batch, a.heads, a.time, a.dim)
runs = {}
# Flash SDPA exists on the GPU only; the CPU smoke test runs the default backend.
versions = [("sdpa_flash_bf16", torch.bfloat16, SDPBackend.FLASH_ATTENTION)] if a.device == "cuda" else []
for name, dtype, backend in versions + [("sdpa_fp32", torch.float32, None)]:
    gen = torch.Generator(device=a.device).manual_seed(1)
    q, k, v = (torch.empty(shape, device=a.device, dtype=dtype).uniform_(-1, 1, generator=gen).requires_grad_()
               for _ in range(3))
    dout = torch.empty(shape, device=a.device, dtype=dtype).uniform_(-1, 1, generator=gen)

    def step():
        if backend is None:
            o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            with sdpa_kernel(backend):
                o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        o.backward(dout)
        q.grad = k.grad = v.grad = None

    runs[name] = measure(step, a.reps, device=a.device)
write(a.json, "attention", {"batch": a.batch, "heads": a.heads, "time": a.time, "dim": a.dim}, runs, a.device)
