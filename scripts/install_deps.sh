#!/usr/bin/env bash
# Installs coopgen's build dependencies from Debian packages, only those that are missing.
# The CUDA toolkit (nvcc, cuBLAS, cuRAND, NCCL) is not a Debian package here: where
# /usr/local/cuda exists the CUDA backend is built too (COOPGEN_CUDA=AUTO).
set -euo pipefail
packages=(cmake g++ make catch2 libyaml-cpp-dev libjsoncpp-dev libpcre2-dev libopenblas-dev libopenmpi-dev openmpi-bin
          clang libclang-rt-14-dev python3-matplotlib)
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
# The reference implementations the cross-check tests compare with (the safetensors reader, NLTK's
# BLEU, sacreBLEU, rouge-score), and matplotlib for the pictures, for the python3 on PATH (which
# need not be Debian's, whose python3-matplotlib is installed above).
if command -v python3 >/dev/null && ! python3 -c 'import safetensors, numpy, nltk, sacrebleu, rouge_score, matplotlib' 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check safetensors numpy nltk sacrebleu rouge-score matplotlib 2>/dev/null ||
    echo "install_deps: safetensors/numpy/nltk/sacrebleu/rouge-score/matplotlib for python3 not installed; their comparison tests will be skipped"
fi
