"""scripts/grid.py, the experiment driver, on a grid of tiny oracle runs: the stages train first,
the second (which starts from the first) after the first though two run at a time, and its folder
reaches the runs' overrides; every combination × seed trains once with the
method table's overrides (read back from each run's own config.yaml); `after`, completed by an axis
value's words, runs once per run;
a second `run` trains nothing; a changed override retrains; `table` gives the mean and sd over
seeds of each run's evaluation of lowest nll_valid, recomputed here from the metrics files, and
with --paired the differences from the control's runs; `sweeps` the same of known sweep files; an
axis value that names a method gets the method table's config and overrides before its own.
Usage: grid_driver.py COOPGEN SRC_DIR WORK_DIR   (exit 77: no oracle data)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_tools import Checks, skip  # noqa: E402

try:
    import yaml
except ImportError:
    skip("the python3 package yaml is not installed (scripts/install_deps.sh)")

coopgen, src, work = sys.argv[1:4]
oracle = os.path.join(src, "..", "shared", "data", "oracle", "seqgan_oracle_lstm.safetensors")
if not os.path.exists(oracle):
    skip(f"no oracle at {oracle}", required=False)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
small = [f"data.oracle={oracle}", "data.train_size=64", "data.test_size=16", "data.valid_size=16",
         "train.eval_samples=8", "optim.schedule.total_steps=3", "optim.schedule.warmup_steps=0"]
grid_file = os.path.join(work, "grid.yaml")
with open(grid_file, "w") as f:
    yaml.safe_dump({
        "vars": {"task": "oracle"}, "out": os.path.join(work, "runs"), "seeds": [0, 1],
        "stages": [{"name": "start", "config": "configs/oracle_mle.yaml", "run_dir": os.path.join(work, "start"),
                    "overrides": small + ["train.steps=2"]},
                   {"name": "next", "config": "configs/oracle_mle.yaml", "run_dir": os.path.join(work, "next"),
                    "overrides": small + ["train.steps=1", "model.init={stage:start}/checkpoint_best"]}],
        "common": small + ["model.init={stage:next}/checkpoint_best", "train.steps=3", "train.eval_every=1",
                           "optim.lr=0.01"],
        "axes": {"method": ["mle", "gcn_guided+d_star"], "width": {"w": {"overrides": [], "after": ["{run_dir}/checkpoint"]}}},
        "after": ["{bin}", "inspect"]}, f)  # the axis value completes `after` (inspect needs its folder)
check = Checks()


def grid(*args):
    r = subprocess.run([sys.executable, os.path.join(src, "scripts", "grid.py"), *args], cwd=src,
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
    return r


r = grid("run", grid_file, "--jobs", "2", "--bin", coopgen)
check(r.returncode == 0, "grid run exits 0")
lines = r.stdout.splitlines()
trained = [l for l in lines if " exit 0, best step" in l]
check(len(trained) == 6 and os.path.join(work, "start") in trained[0] and os.path.join(work, "next") in trained[1],
      f"the stages in order, then 4 runs trained ({len(trained)})")
runs = {m: [os.path.join(work, "runs", f"{m}_w", f"seed{s}") for s in (0, 1)] for m in ("mle", "gcn_guided+d_star")}
for m, dirs in runs.items():
    for d in dirs:
        with open(os.path.join(d, "config.yaml")) as f:
            cfg = yaml.safe_load(f)
        want = {"mle": ("mle", "sample", 2), "gcn_guided+d_star": ("gcn", "guided", 0)}[m]
        got = (cfg["method"], cfg["decoding"]["decoder"], cfg["train"]["patience"] if m == "mle" else cfg["discriminator"]["pretrain_steps"])
        check(got == want, f"{d}: method, decoder and patience / D's pre-training from the method table {want}")
        if m != "mle":
            check(cfg["discriminator"]["kind"] == "optimal", f"{d}: D* from the method table")
        check(cfg["model"]["init"] == os.path.join(work, "next", "checkpoint_best"), f"{d}: starts from its stage")
        check(os.path.exists(d + ".after.done"), f"{d}: after ran")
r = grid("run", grid_file, "--jobs", "2", "--bin", coopgen)
check(r.returncode == 0 and "4 finished, 0 to go" in r.stdout and " exit " not in r.stdout, "a second run trains nothing")
after_logs = {d: os.path.getmtime(d + ".after.log") for dirs in runs.values() for d in dirs}
r = grid("run", grid_file, "--jobs", "2", "--bin", coopgen, "--override", "optim.lr=0.02")
retrained = [l for l in r.stdout.splitlines() if " exit 0, best step" in l]
check(r.returncode == 0 and len(retrained) == 4 and all(f"{work}/start " not in l and f"{work}/next " not in l for l in retrained),
      f"a changed override retrains the 4 runs, not the stages ({len(retrained)})")
check(all(os.path.getmtime(d + ".after.log") > t for d, t in after_logs.items()), "... and runs their `after` again")

r = grid("table", grid_file, "--metrics", "nll_valid,kl_test")
for m, dirs in runs.items():
    best = []
    for d in dirs:
        with open(os.path.join(d, "metrics.jsonl")) as f:
            evals = [row for row in map(json.loads, f) if "loss" not in row]
        best.append(min(evals, key=lambda row: row["nll_valid"]))
    want = [f"{statistics.mean(b[k] for b in best):.3f} ± {statistics.stdev(b[k] for b in best):.3f}" for k in ("nll_valid", "kl_test")]
    row = next((l for l in r.stdout.splitlines() if l.startswith(f"| {m}_w |")), "")
    check(all(w in row for w in want), f"table row of {m}: {want} in '{row}'")
# --paired: per seed, (best − start) of the run less (best − start) of the control's run. The
# control's seed-0 start is moved by 0.5 first (every run starts from the same stage, so otherwise
# the difference of changes and the difference of bests would agree).
path = os.path.join(runs["mle"][0], "metrics.jsonl")
with open(path) as f:
    rows = [json.loads(line) for line in f if line.strip()]
first = next(row for row in rows if "loss" not in row)
first["kl_test"] += 0.5
with open(path, "w") as f:
    f.writelines(json.dumps(row) + "\n" for row in rows)
r = grid("table", grid_file, "--metrics", "kl_test", "--paired", "mle_w")
change = {}
for m, dirs in runs.items():
    for s, d in enumerate(dirs):
        with open(os.path.join(d, "metrics.jsonl")) as f:
            evals = [row for row in map(json.loads, f) if "loss" not in row]
        change[m, s] = min(evals, key=lambda row: row["nll_valid"])["kl_test"] - evals[0]["kl_test"]
deltas = [change["gcn_guided+d_star", s] - change["mle", s] for s in (0, 1)]
want = f"{statistics.mean(deltas):.3f} ± {statistics.stdev(deltas):.3f} |"
row = next((l for l in r.stdout.splitlines() if l.startswith("| gcn_guided+d_star_w |")), "")
check(row.endswith(want), f"paired table row of gcn: ends with '{want}': '{row}'")

# `sweeps`: per combination and α, the mean ± sd over seeds of each column of the runs' sweep.csv
# (written here with known numbers: method i, seed k has lm_score 1 + k + i·(0.5 + 0.25·k) at α 1),
# and with --paired the differences from the control's run of the same seed (0.5, 0.75 for gcn).
for i, (m, dirs) in enumerate(runs.items()):
    for k, d in enumerate(dirs):
        os.makedirs(os.path.join(d, "sweep"), exist_ok=True)
        with open(os.path.join(d, "sweep", "sweep.csv"), "w") as f:
            f.write("alpha,temperature,lm_score\n1,1,%g\n2,0.5,%g\n" % (1 + k + i * (0.5 + 0.25 * k), 10 + 2 * k))
r = grid("sweeps", grid_file, "--metrics", "lm_score", "--paired", "mle_w")
for i, m in enumerate(runs):
    for alpha, values, delta in ((1, (1 + i * 0.5, 2 + i * 0.75), "0.625 ± 0.177" if i else "0.000 ± 0.000"),
                                 (2, (10, 12), "0.000 ± 0.000")):
        want = f"| {m}_w | {alpha} | 2 | {statistics.mean(values):.3f} ± {statistics.stdev(values):.3f} | {delta} |"
        check(want in r.stdout, f"sweeps row {want}")
check(grid("sweeps", grid_file, "--paired", "nothing").returncode != 0, "--paired with an unknown label fails")

# A stage that starts from a stage listed after it is refused (stages train two at a time, each
# after those before it that it names); a folder is named as a whole path ("b" is not in "b2").
order_file = os.path.join(work, "order.yaml")


def order_grid(init):  # stage a starts from `init`; stage b is listed after it
    with open(order_file, "w") as f:
        yaml.safe_dump({"out": os.path.join(work, "order"), "seeds": [0],
                        "stages": [{"name": "a", "config": "configs/oracle_mle.yaml", "run_dir": os.path.join(work, "a"),
                                    "overrides": [f"model.init={init}"]},
                                   {"name": "b", "config": "configs/oracle_mle.yaml", "run_dir": os.path.join(work, "b")}],
                        "common": ["model.init={stage:a}/checkpoint_best"], "axes": {"m": {"x": []}}}, f)


order_grid(f"{work}/b/checkpoint_best")
r = grid("run", order_file, "--print", "--bin", coopgen)
check(r.returncode != 0 and "stage a starts from stage b, listed after it" in r.stderr, "a stage before the stage it starts from is refused")
order_grid(f"{work}/b2/checkpoint_best")
check(grid("run", order_file, "--print", "--bin", coopgen).returncode == 0, "... but b2's folder does not name stage b")

# An axis value that names a method (NAME+VARIANT, as a method axis does): the method table's config
# and overrides, then the value's own, read here from configs/grids/methods.yaml.
named_file = os.path.join(work, "named.yaml")
with open(named_file, "w") as f:
    yaml.safe_dump({"vars": {"task": "oracle"}, "out": os.path.join(work, "named"), "seeds": [0],
                    "config": "configs/oracle_mle.yaml", "common": ["train.steps=3"],
                    "axes": {"sampler": {"plain": ["train.steps=0"],
                                         "guided": {"method": "gcn_guided+lr_d", "overrides": ["train.steps=1"]}}}}, f)
with open(os.path.join(src, "configs", "grids", "methods.yaml")) as f:
    table = yaml.safe_load(f)
want_guided = (["--config", "configs/" + table["methods"]["gcn_guided"]["config"].replace("{task}", "oracle")],
               table["methods"]["gcn_guided"]["overrides"] + table["discriminators"]["lr_d"] + ["train.steps=1"])
r = grid("run", named_file, "--print", "--bin", "BIN")
commands = {l.split("run_dir=")[1].split()[0].split("/")[-2]: l.split() for l in r.stdout.splitlines() if "run_dir=" in l}
got = commands.get("guided", [])
check(r.returncode == 0 and got[2:4] == want_guided[0] and got[-len(want_guided[1]):] == want_guided[1],
      f"an axis value naming a method: its config and overrides, then the value's ({got})")
check(commands.get("plain", [])[2:4] == ["--config", "configs/oracle_mle.yaml"] and commands["plain"][-1] == "train.steps=0",
      "an axis value without a method keeps the grid's config")
check.finish()
