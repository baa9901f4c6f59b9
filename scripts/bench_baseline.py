#!/usr/bin/env python3
"""Records a CI guard baseline (bench/baselines/NAME_cpu.json) from repeated runs of a benchmark.

    python3 scripts/bench_baseline.py BUILD_DIR NAME [--runs 10] [--reps 30] [--seen KEY=VALUE ...] [--write]

Runs `BUILD_DIR/bench/bench_NAME --reps R --json ...` RUNS times, one after the other, with one
OpenBLAS thread (as CTest runs the guards), and for every ratio the benchmark reports prints the
median, minimum and maximum over the runs. With --write it replaces the baseline's ratios (the
median over the runs), spreads ([min, max] / median) and tolerances, keeping the keys the
baseline already guards (all of them for a new file). A timed key's tolerance is three times its
upward spread (max / median − 1), at least 15% and at most 20%: wide enough that the noise of a
shared 2-core machine does not fail it, narrow enough that a 30% slowdown of the measured kernel
does, which the script checks against the downward spread (1.3 · min / median must exceed
1 + tolerance) and reports when it does not (docs/perf.md, "Benchmark guards"). A ratio that did
not vary at all is an exact count (peak memory): its tolerance is 2%.

A ratio between unlike workloads (GCN's latency-bound sampling against MLE's GEMMs) also moves
between machines of one kind: --seen KEY=VALUE gives what another machine measured for the same
commit (e.g. CI's log), and that key's tolerance is raised to cover it with 5 points to spare,
still at most 20%; the value is kept in the baseline ("seen").
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build_dir")
    ap.add_argument("name", help="logprob | attention | sampling | train_step")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--seen", action="append", default=[], metavar="KEY=VALUE",
                    help="the ratio KEY as another machine measured it for this commit")
    ap.add_argument("--write", action="store_true", help="write bench/baselines/NAME_cpu.json")
    a = ap.parse_args()

    seen = {}
    for item in a.seen:
        key, _, value = item.partition("=")
        try:
            seen[key] = float(value)
        except ValueError:
            sys.exit(f"bench_baseline: --seen {item}: expected KEY=NUMBER")
    exe = os.path.join(a.build_dir, "bench", "bench_" + a.name)
    if not os.access(exe, os.X_OK):
        sys.exit(f"bench_baseline: {exe}: no such benchmark (build it first)")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        for k in range(a.runs):
            subprocess.run([exe, "--reps", str(a.reps), "--json", out], env=env, check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                runs.append(json.load(f)["ratios"])
            print(f"run {k + 1}/{a.runs}: " + ", ".join(f"{key} {v:.4g}" for key, v in sorted(runs[-1].items())), flush=True)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench", "baselines", a.name + "_cpu.json")
    old = {}
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    keys = sorted(old.get("ratios", runs[0]).keys())
    ratios, spread, tolerance = {}, {}, {}
    print(f"{'ratio':34} {'median':>9} {'min':>9} {'max':>9} {'tolerance':>9}")
    unknown = set(seen) - set(keys)
    if unknown:
        sys.exit(f"bench_baseline: --seen {sorted(unknown)[0]}: not a ratio of {path}")
    for key in keys:
        values = [r[key] for r in runs if key in r]
        if not values:
            sys.exit(f"bench_baseline: {key} is in {path} but bench_{a.name} does not report it")
        med = statistics.median(values)
        low, high = min(values) / med, max(values) / med
        spread[key] = [round(low, 4), round(high, 4)]
        wanted = 3 * (high - 1)
        if key in seen:
            wanted = max(wanted, seen[key] / med - 1 + 0.05)
        tolerance[key] = 0.02 if low == high else round(min(0.20, max(0.15, wanted)), 3)
        ratios[key] = round(med, 4)
        flag = ""
        if wanted > 0.20:
            flag = "  (noise or another machine over the cap)"
        if 1.3 * low <= 1 + tolerance[key]:
            flag += "  (a 30% slowdown could pass: downward noise)"
        print(f"{key:34} {med:9.4f} {min(values):9.4f} {max(values):9.4f} {tolerance[key]:9.3f}{flag}")
    if a.write:
        base = {
            "bench": a.name,
            "device": "cpu",
            "note": f"median of {a.runs} runs of `bench_{a.name} --reps {a.reps}` (one OpenBLAS thread) on {cpu_model()}, "
                    f"{datetime.date.today().isoformat()}, by scripts/bench_baseline.py; spread = [min, max] / median over "
                    f"those runs; --check fails when a ratio exceeds (1 + tolerance) x its value in every one of 3 "
                    f"measurements.",
            "ratios": ratios,
            "spread": spread,
            "tolerance": tolerance,
        }
        if seen:
            base["seen"] = seen
            base["note"] += " seen: the same ratio measured on another machine (CI) for the same commit; its tolerance covers it."
        tmp_path = path + ".tmp"
        with open(tmp_path, "w") as f:
            json.dump(base, f, indent=1)
            f.write("\n")
        os.replace(tmp_path, path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
