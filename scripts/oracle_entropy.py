#!/usr/bin/env python3
"""H(p*), the oracle LSTM's entropy rate in nats per token, by Monte Carlo with its standard error.

On the oracle task NLL-test − H(p*) is KL(p*‖p) per token (the test set is drawn from p*); coopgen
reports that as kl_test, subtracting the oracle's own NLL of the same test sequences (an unbiased
estimate of H(p*) whose error cancels between methods). This script measures H(p*) once with many
samples, in float64 NumPy from the tensors as ../shared/data/README.md defines the LSTM
(independent of coopgen's implementation): H = E_{y∼p*}[−log p*(y)] / 20, error = sd/√N.

usage: oracle_entropy.py [ORACLE.safetensors] [--samples N (200000)] [--seed S (0)]
"""
import argparse

import numpy as np
from safetensors.numpy import load_file


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("oracle", nargs="?", default="../shared/data/oracle/seqgan_oracle_lstm.safetensors")
    ap.add_argument("--samples", type=int, default=200000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    w = {k: v.astype(np.float64) for k, v in load_file(a.oracle).items()}
    rng = np.random.default_rng(a.seed)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    per_seq = []
    for first in range(0, a.samples, 10000):
        n = min(10000, a.samples - first)
        h, c = np.zeros((n, 32)), np.zeros((n, 32))
        tok = np.zeros(n, dtype=np.int64)  # start token 0
        nll = np.zeros(n)
        for _ in range(20):
            x = w["embedding"][tok]
            i = sig(x @ w["Wi"] + h @ w["Ui"] + w["bi"])
            f = sig(x @ w["Wf"] + h @ w["Uf"] + w["bf"])
            o = sig(x @ w["Wog"] + h @ w["Uog"] + w["bog"])
            c = f * c + i * np.tanh(x @ w["Wc"] + h @ w["Uc"] + w["bc"])
            h = o * np.tanh(c)
            logits = h @ w["Wo"] + w["bo"]
            logits -= logits.max(1, keepdims=True)
            logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
            u = rng.random(n)[:, None]  # inverse-CDF draw
            tok = np.minimum((np.exp(logp).cumsum(1) < u).sum(1), logp.shape[1] - 1)
            nll -= logp[np.arange(n), tok]
        per_seq.append(nll / 20)
    per_seq = np.concatenate(per_seq)
    print(f"H(p*) = {per_seq.mean():.4f} ± {per_seq.std(ddof=1) / np.sqrt(len(per_seq)):.4f} nats/token "
          f"(standard error; {len(per_seq)} oracle samples, per-sequence sd {per_seq.std(ddof=1):.3f})")


if __name__ == "__main__":
    main()
