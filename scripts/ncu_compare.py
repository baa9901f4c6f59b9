#!/usr/bin/env python3
"""Nsight Compute's memory figures beside the emulator's (docs/gpu.md, gpu_check.sh step ncu).

  scripts/ncu_compare.py EMULATOR.json NCU_CSV...

EMULATOR.json is memory_report's JSON (bench/baselines/memory_sim.json); each NCU_CSV is the output
of `ncu --csv --print-units base --metrics METRICS memory_report --launch-only --only CASE` and is
named ncu_CASE.csv. For each case: the emulator's groups at the larger shape (global load and
store sectors per request, shared conflict ways, unique traffic over ideal) and the roofline bound
at the GPT-2 shape; then each kernel launch ncu measured at the same shape: sectors per request,
shared bank conflicts, DRAM bytes and duration. The setup's own kernels (Philox fills, casts) are
listed too, marked "setup".
  --metrics prints the metric list gpu_check.sh passes to ncu.
"""
import csv
import json
import sys
from collections import OrderedDict
from pathlib import Path

METRICS = [
    "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum", "l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum",
    "l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum", "l1tex__t_requests_pipe_lsu_mem_global_op_st.sum",
    "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum", "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum",
    "dram__bytes_read.sum", "dram__bytes_write.sum", "gpu__time_duration.sum",
]
SETUP = ("philox", "fill", "copy", "cast")


def number(text):
    text = text.replace(",", "").strip()
    try:
        return float(text)
    except ValueError:
        return float("nan")


def launches(path):
    """Kernel launches of one ncu CSV, in order: (name, {metric: value})."""
    rows = OrderedDict()
    with open(path, newline="") as f:
        lines = [l for l in f if l.startswith('"')]  # ncu prints its own messages before the table
    for r in csv.DictReader(lines):
        key = (r["ID"], r["Kernel Name"])
        rows.setdefault(key, {})[r["Metric Name"]] = number(r["Metric Value"])
    return [(name, m) for (_, name), m in rows.items()]


def ratio(a, b):
    return f"{a / b:.2f}" if b else "—"


def main(argv):
    if argv[1:] == ["--metrics"]:
        print(",".join(METRICS))
        return 0
    if len(argv) < 3:
        sys.exit(__doc__)
    emulator = json.load(open(argv[1]))["cases"]
    for path in argv[2:]:
        case = Path(path).stem.removeprefix("ncu_")
        if case not in emulator:
            print(f"{case}: not in {argv[1]}")
            continue
        c = emulator[case]
        print(f"## {case} (ncu and emulator at {c['larger']['shape']}; roofline at GPT-2 {c['gpt2']['shape']})")
        print("| group | emulator: load sectors/req | store sectors/req | shared ways | unique / ideal | "
              "H100 bound µs | H200 bound µs |")
        print("|---|---|---|---|---|---|---|")
        for g, e in c["larger"]["groups"].items():
            r = c["gpt2"]["groups"][g]
            print(f"| {g} ({', '.join(e['kernels'])}) | {e['load_sectors_per_request']:.2f} | "
                  f"{e['store_sectors_per_request']:.2f} | {e['shared_conflict_ways']:.0f} | "
                  f"{e['unique_over_ideal']:.2f} | {r['h100_bound_us']:.1f} | {r['h200_bound_us']:.1f} |")
        print("| ncu kernel | load sectors/req | store sectors/req | shared conflicts ld/st | DRAM read+write B | µs |")
        print("|---|---|---|---|---|---|")
        for name, m in launches(path):
            get = lambda k: m.get(k, float("nan"))
            setup = " (setup)" if any(s in name.lower() for s in SETUP) else ""
            print(f"| `{name[:60]}`{setup} | "
                  f"{ratio(get(METRICS[0]), get(METRICS[1]))} | {ratio(get(METRICS[2]), get(METRICS[3]))} | "
                  f"{get(METRICS[4]):.0f} / {get(METRICS[5]):.0f} | {get(METRICS[6]) + get(METRICS[7]):.0f} | "
                  f"{get(METRICS[8]) / 1e3:.1f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
