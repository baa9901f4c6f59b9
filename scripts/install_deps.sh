#!/usr/bin/env bash
# Installs coopgen's build dependencies from Debian packages, only those that are missing.
# The CUDA toolkit (nvcc, cuBLAS, cuRAND, NCCL) is not a Debian package here: where
# /usr/local/cuda exists the CUDA backend is built too (COOPGEN_CUDA=AUTO).
set -euo pipefail
packages=(cmake g++ make catch2 libyaml-cpp-dev libjsoncpp-dev libopenblas-dev libopenmpi-dev openmpi-bin clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all build dependencies present"
else
  echo "install_deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Optional: the reference implementations three tests compare with (Skipped without them): the
# safetensors reader, NLTK's BLEU, and sacreBLEU / rouge-score for the conditional-generation metrics.
if command -v python3 >/dev/null && ! python3 -c 'import safetensors, numpy, nltk, sacrebleu, rouge_score' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check safetensors numpy nltk sacrebleu rouge-score 2>/dev/null ||
    echo "install_deps: safetensors/numpy/nltk/sacrebleu/rouge-score for python3 not installed; their comparison tests will be skipped"
fi
