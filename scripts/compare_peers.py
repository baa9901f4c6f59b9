#!/usr/bin/env python3
"""Puts coopgen's benchmark JSON (bench/harness.h layout) beside its PyTorch peer's
(bench/peers/common.py) and prints one line per coopgen run and peer run (only the named one when
a peer run says which coopgen run it `matches`): time and peak memory, and their ratios
coopgen/peer (below 1: coopgen is faster or smaller).
  scripts/compare_peers.py COOPGEN.json PEER.json [--json OUT.json]"""
import json
import sys


def main():
    args = sys.argv[1:]
    out = None
    if "--json" in args:
        i = args.index("--json")
        out = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    ours, peer = (json.load(open(f)) for f in args)
    if ours["bench"] != peer["bench"]:
        sys.exit(f"compare_peers: {args[0]} is '{ours['bench']}', {args[1]} is '{peer['bench']}'")
    rows = []
    for o in ours["runs"]:
        for p in peer["runs"]:
            if p.get("matches", o["name"]) != o["name"]:
                continue
            rows.append({"coopgen": o["name"], "peer": p["name"],
                         "time_ratio": o["median_ms"] / p["median_ms"],
                         "memory_ratio": o["peak_mb"] / p["peak_mb"] if p["peak_mb"] else None})
            mem = f"{rows[-1]['memory_ratio']:.3f}" if rows[-1]["memory_ratio"] is not None else "-"
            print(f"{ours['bench']}: coopgen {o['name']} ({o['median_ms']:.3f} ms, {o['peak_mb']:.1f} MB) / "
                  f"{peer['peer']} {p['name']} ({p['median_ms']:.3f} ms, {p['peak_mb']:.1f} MB): "
                  f"time {rows[-1]['time_ratio']:.3f}, memory {mem}")
    if out:
        with open(out, "w") as f:
            json.dump({"bench": ours["bench"], "shape": ours.get("shape"), "peer": peer["peer"], "ratios": rows}, f)


main()
