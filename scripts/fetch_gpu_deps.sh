#!/usr/bin/env bash
# Run here (a Debian machine with apt): downloads the Debian packages that the GPU machine lacks
# (it has nvcc, CMake and PyTorch, but no apt and no network) into .deps/debs, an ignored folder
# that the device tool carries: run(command="bash scripts/gpu_check.sh", carry=[".deps"]).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .deps/debs
cd .deps/debs
apt-get download catch2 libyaml-cpp-dev libyaml-cpp0.7 libopenblas-dev libopenblas0 \
  libopenblas0-pthread libopenblas-pthread-dev libgfortran5 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
ls -la
