#!/usr/bin/env bash
# CMake's compiler launcher for the CUDA kernels (CMakeLists.txt; the compile line asks ptxas for
# its -v report): runs the compile it is given, keeps ptxas's report on each kernel (registers,
# stack frame, spills, shared memory) in OBJECT.ptxas beside the object named by -o, and passes
# every other line of the compiler's standard error through. scripts/ptxas_report.py --build reads
# these reports, so the check of the hot kernels' resources compiles nothing again.
# Usage (by CMake): nvcc_ptxas_log.sh COMPILER ARGS...
[ $# -gt 0 ] || { echo "usage: nvcc_ptxas_log.sh COMPILER ARGS..." >&2; exit 2; }
obj=
for ((i = 1; i < $#; ++i)); do
  if [ "${!i}" = -o ]; then j=$((i + 1)); obj=${!j}; fi
done
[ -n "$obj" ] || exec "$@"
err=$(mktemp) || exit 1
trap 'rm -f "$err" "$obj.ptxas.tmp"' EXIT
"$@" 2> "$err"
status=$?
# ptxas -v: "ptxas info : ..." lines, and each kernel's "N bytes stack frame, ..." line (indented).
grep -vE '^ptxas info|^ +[0-9]+ bytes stack frame' "$err" >&2
if [ "$status" -eq 0 ]; then  # (empty for a file without kernels)
  grep -E '^ptxas info|^ +[0-9]+ bytes stack frame' "$err" > "$obj.ptxas.tmp"
  mv "$obj.ptxas.tmp" "$obj.ptxas" || status=1
fi
exit "$status"
