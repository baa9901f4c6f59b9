"""What the PyTorch peers share: their common options (--device, --reps, --json), timing (CUDA
events on the GPU, the wall clock on the CPU, where the peers run only as a smoke test of the
scripts), the peak of PyTorch's allocator over one repetition (GPU), and the JSON layout of
coopgen's bench/harness.h, so scripts/compare_peers.py can put the two side by side."""
import argparse
import json
import statistics
import time

import torch


def arguments(doc, reps=20):
    """An argument parser with the options every peer takes; add the shape's own, then parse."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--reps", type=int, default=reps)
    p.add_argument("--json", required=True)
    return p


def measure(fn, reps=20, warmup=3, device="cuda"):
    """Median milliseconds of fn() over `reps` calls after `warmup`, and the peak MB of one call."""
    gpu = device == "cuda"
    sync = torch.cuda.synchronize if gpu else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times, peak = [], 0.0
    for _ in range(reps):
        if gpu:
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end))
            peak = max(peak, (torch.cuda.max_memory_allocated() - base) / 1e6)
        else:
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1e3)
    return {"median_ms": statistics.median(times), "peak_mb": peak}


def write(path, bench, shape, runs, device="cuda"):
    """runs: {name: measure(...)}; the layout of coopgen's Report::write_json, peer = torch."""
    report = {"bench": bench, "device": device, "peer": "torch " + torch.__version__, "shape": shape,
              "runs": [dict(name=name, **t) for name, t in runs.items()]}
    with open(path, "w") as f:
        json.dump(report, f)
    for name, t in runs.items():
        print(f"{bench} {name:>24}: {t['median_ms']:10.3f} ms {t['peak_mb']:10.1f} MB")
