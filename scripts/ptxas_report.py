#!/usr/bin/env python3
"""Static resources of every CUDA kernel for sm_90, from ptxas's verbose report.

With --build DIR, reads the reports the CUDA build kept beside its objects (DIR/**/FILE.cu.o.ptxas,
written by scripts/nvcc_ptxas_log.sh, CMake's launcher for the kernels): the kernels as the build
compiled them, nothing compiled again. Without it, compiles the device code of each
kernels/cuda/*.cu as the build does (nvcc -O3 -arch=sm_90 -std=c++20, the project's CUDA flags;
-cubin: no host pass) with -Xptxas -v. Prints one Markdown row per kernel instantiation: registers
per thread, stack frame, spill stores/loads, static shared memory, and the theoretical occupancy
the registers allow on sm_90 (65,536 registers per SM, allocated per warp in units of 256; 64 warps
per SM at most). Occupancy from shared memory and block size depends on the launch and is not
included.

  scripts/ptxas_report.py [--build DIR | --nvcc PATH --jobs N] [--files a.cu,b.cu] [--check BASELINE.json]
                          [--write-baseline FILE]

--check fails (exit 1, one line per kernel) when a hot kernel (attention, sampling, losses,
layernorm, AdamW) keeps more stack frame or spills more bytes than the baseline lists for it, or
appears with any when the baseline has none; the baseline names today's known offenders
(bench/baselines/ptxas_sm90.json), so the list can only shrink.
"""
import argparse
import concurrent.futures
import json
import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOT = ("attention", "sample", "logprob", "logsumexp", "layernorm", "adamw", "bce")
FLAGS = ["-O3", "-arch=sm_90", "-std=c++20", "--expt-relaxed-constexpr", "--extended-lambda", f"-I{ROOT}"]


def compile_report(nvcc, cu):
    # -cubin: the device code only (ptxas reports on it); the host side is the build's to compile.
    r = subprocess.run([nvcc, *FLAGS, "-Xptxas", "-v", "-cubin", str(cu), "-o", "/dev/null"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"ptxas_report: {cu.name}: nvcc failed:\n{r.stderr[-2000:]}")
    return cu.name, r.stderr


def build_report(build, cu):
    found = sorted(Path(build).glob(f"**/kernels/cuda/{cu.name}.o.ptxas"))
    if len(found) != 1:
        sys.exit(f"ptxas_report: {'no' if not found else len(found)} ptxas report(s) for {cu.name} under {build} "
                 "(a CUDA build keeps one beside each object: CMakeLists.txt, scripts/nvcc_ptxas_log.sh)")
    return cu.name, found[0].read_text()


def parse(file, text):
    rows, current = [], None
    for line in text.splitlines():
        if m := re.search(r"Compiling entry function '([^']+)' for 'sm_90'", line):
            current = {"file": file, "mangled": m.group(1)}
        elif current and (m := re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)):
            current["stack"], current["spill_st"], current["spill_ld"] = map(int, m.groups())
        elif current and (m := re.search(r"Used (\d+) registers", line)):
            current["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            current["smem"] = int(s.group(1)) if s else 0
            rows.append(current)
            current = None
    return rows


def demangle(names):
    r = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True)
    return r.stdout.splitlines() if r.returncode == 0 else names


def short(name):
    """coopgen::cuda::(anonymous namespace)::sample_kernel(int*, ...) -> sample_kernel; templates kept."""
    name = name.removeprefix("void ").replace("coopgen::cuda::", "").replace("(anonymous namespace)::", "")
    depth, out = 0, []
    for ch in name:  # drop the parameter list
        if ch == "(" and depth == 0:
            break
        depth += ch == "<"
        depth -= ch == ">"
        out.append(ch)
    name = "".join(out).replace("__nv_bfloat16", "bf16").replace("attention_family::", "")
    # map_kernel<float, gelu_forward<float>(float*, …)::{lambda(long)#1}> -> map_kernel<float, gelu_forward λ1>
    return re.sub(r"(\w+)<\w+>\([^)]*\)::\{lambda\(long\)#(\d+)\}", r"\1 λ\2", name)


def occupancy(regs):
    per_warp = math.ceil(regs * 32 / 256) * 256
    return min(64, 65536 // per_warp) / 64 if regs else 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", help="a CUDA build folder: read its reports instead of compiling")
    ap.add_argument("--nvcc", default="/usr/local/cuda/bin/nvcc")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--files", default="")
    ap.add_argument("--check")
    ap.add_argument("--write-baseline")
    a = ap.parse_args()
    files = sorted((ROOT / "kernels/cuda").glob("*.cu"))
    if a.files:
        files = [ROOT / "kernels/cuda" / f for f in a.files.split(",")]
    if a.build:
        reports = [build_report(a.build, cu) for cu in files]
    else:
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            reports = list(pool.map(lambda cu: compile_report(a.nvcc, cu), files))
    rows = []
    for file, text in reports:
        found = parse(file, text)
        if not found:  # a build for another architecture, or an empty report: nothing would be checked
            sys.exit(f"ptxas_report: no sm_90 kernel in the report of {file}")
        rows += found
    for r, name in zip(rows, demangle([r["mangled"] for r in rows])):
        r["name"] = short(name)
        r["hot"] = any(h in r["name"] for h in HOT)
    print("| file | kernel | registers | stack B | spill st/ld B | static smem B | occupancy (registers) |")
    print("|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (r["file"], r["name"])):
        flag = " **(hot)**" if r["hot"] and (r["stack"] or r["spill_st"] or r["spill_ld"]) else ""
        print(f"| {r['file']} | `{r['name']}`{flag} | {r['regs']} | {r['stack']} | {r['spill_st']}/{r['spill_ld']} | "
              f"{r['smem']} | {occupancy(r['regs']):.0%} |")
    offenders = {r["name"]: {"stack": r["stack"], "spill": r["spill_st"] + r["spill_ld"]}
                 for r in rows if r["hot"] and (r["stack"] or r["spill_st"] or r["spill_ld"])}
    if a.write_baseline:
        Path(a.write_baseline).write_text(json.dumps({
            "comment": "Hot CUDA kernels that keep a stack frame or spill on sm_90 (scripts/ptxas_report.py): "
                       "bytes may not grow and no kernel may join; remove an entry once its kernel is fixed.",
            "offenders": offenders}, indent=1, sort_keys=True) + "\n")
    if a.check:
        known = json.loads(Path(a.check).read_text())["offenders"]
        bad = [f"{n}: over its baseline: stack {o['stack']} B, spills {o['spill']} B (baseline: "
               f"{'none' if n not in known else str(known[n]['stack']) + ' B, ' + str(known[n]['spill']) + ' B'})"
               for n, o in offenders.items()
               if n not in known or o["stack"] > known[n]["stack"] or o["spill"] > known[n]["spill"]]
        names = {r["name"] for r in rows}
        bad += [f"{n}: listed in the baseline, not found" for n in known if n not in names]
        for line in bad:
            print(f"ptxas_report: hot kernel {line}", file=sys.stderr)
        print(f"{len(offenders)} hot kernel(s) keep a stack frame or spill; {len(bad)} over the baseline {a.check}")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
