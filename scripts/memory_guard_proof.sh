#!/usr/bin/env bash
# Shows that the memory-pattern guard (CTest bench_memory_check: memory_report --check
# bench/baselines/memory_sim.json) passes on the unchanged tree and fails when a baseline figure is
# lowered: for each guarded kind (global sectors per request, shared conflict ways, unique and
# requested traffic) one group's baseline value is cut by 10% in a copy, and the check of that case
# must exit 1 naming it.
# Usage: bash scripts/memory_guard_proof.sh [BUILD_DIR (build-simrel: clang, COOPGEN_SIM_TRACE=ON)]
# Exit 1 when the clean check failed or a lowered one passed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-simrel}
report=$build/bench/memory_report
baseline=bench/baselines/memory_sim.json
[ -x "$report" ] || { echo "memory_guard_proof: $report: not built (COOPGEN_SIM_TRACE=ON)" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=1
bad=0
cases="attention_f32_d64 sample_top_k layernorm"
if "$report" --only "${cases// /,}" --check "$baseline" >/tmp/memory_proof_clean.log 2>&1; then
  echo "clean: passed ($(tail -1 /tmp/memory_proof_clean.log))"
else
  echo "clean: FAILED (/tmp/memory_proof_clean.log)"; bad=1
fi
# case:group:figure, each lowered by 10% at the larger shape.
for lowered in attention_f32_d64:backward:store_sectors_per_request sample_top_k:sample:shared_conflict_ways \
               layernorm:backward:unique_over_ideal layernorm:forward:requested_over_ideal; do
  IFS=: read -r name group key <<<"$lowered"
  python3 - "$baseline" "$name" "$group" "$key" >/tmp/memory_proof_lowered.json <<'PY'
import json, sys
base, name, group, key = sys.argv[1:]
b = json.load(open(base))
b["cases"][name]["larger"]["groups"][group][key] *= 0.9
json.dump(b, sys.stdout)
PY
  if "$report" --only "$name" --check /tmp/memory_proof_lowered.json >/tmp/memory_proof_run.log 2>&1; then
    echo "lowered $name $group $key: PASSED (should fail)"; bad=1
  else
    echo "lowered $name $group $key: failed as it should: $(grep -m1 'grew from' /tmp/memory_proof_run.log)"
  fi
done
exit $bad
