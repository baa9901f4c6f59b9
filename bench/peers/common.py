"""What the PyTorch peers share: CUDA-event timing (median of repetitions after warm-up), the peak
of PyTorch's allocator over one repetition, and the JSON layout of coopgen's bench/harness.h, so
scripts/compare_peers.py can put the two side by side."""
import json
import statistics

import torch


def measure(fn, reps=20, warmup=3):
    """Median milliseconds of fn() over `reps` calls after `warmup`, and the peak MB of one call."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times, peak = [], 0.0
    for _ in range(reps):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
        peak = max(peak, (torch.cuda.max_memory_allocated() - base) / 1e6)
    return {"median_ms": statistics.median(times), "peak_mb": peak}


def write(path, bench, shape, runs):
    """runs: {name: measure(...)}; the layout of coopgen's Report::write_json, peer = torch."""
    report = {"bench": bench, "device": "cuda", "peer": "torch " + torch.__version__, "shape": shape,
              "runs": [dict(name=name, **t) for name, t in runs.items()]}
    with open(path, "w") as f:
        json.dump(report, f)
    for name, t in runs.items():
        print(f"{bench} {name:>24}: {t['median_ms']:10.3f} ms {t['peak_mb']:10.1f} MB")
