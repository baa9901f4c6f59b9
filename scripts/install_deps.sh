#!/usr/bin/env bash
# Installs coopgen's build dependencies from Debian packages, only those that are missing.
# The CUDA toolkit (nvcc, cuBLAS, cuRAND, NCCL) is not a Debian package here: where
# /usr/local/cuda exists the CUDA backend is built too (COOPGEN_CUDA=AUTO).
# --with-torch: also PyTorch (CPU build), transformers and tokenizers, the references of the GPT-2
# and BPE interop tests and of the benchmarks' PyTorch peers (a few hundred MB; CI asks for it).
# --main-job: only what scripts/run_default.sh needs (the coopgen program, the experiment driver
# and its pictures), not the test suite's compilers, frameworks and reference tools.
set -euo pipefail
with_torch=0 main_job=0
for option in "$@"; do
  case "$option" in
    --with-torch) with_torch=1 ;;
    --main-job) main_job=1 ;;
    *) echo "install_deps: unknown option '$option' (known: --with-torch, --main-job)" >&2; exit 2 ;;
  esac
done
packages=(cmake g++ make libyaml-cpp-dev libjsoncpp-dev libpcre2-dev libopenblas-dev python3-matplotlib python3-yaml)
[ "$main_job" = 1 ] || packages+=(catch2 libopenmpi-dev openmpi-bin libboost-context-dev clang libclang-rt-14-dev ninja-build)
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
modules=(matplotlib yaml) wheels=(matplotlib pyyaml)
[ "$main_job" = 1 ] || { modules+=(safetensors numpy nltk sacrebleu rouge_score); wheels+=(safetensors numpy nltk sacrebleu rouge-score); }
if command -v python3 >/dev/null && ! python3 -c "import $(IFS=,; echo "${modules[*]}")" 2>/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check "${wheels[@]}" 2>/dev/null ||
    echo "install_deps: ${wheels[*]} for python3 not installed; what needs them (the main job's pictures, the tests that compare with them) will be skipped"
fi
if [ "$with_torch" = 1 ] && command -v python3 >/dev/null && ! python3 -c 'import torch, transformers, tokenizers' 2>/dev/null; then
  echo "install_deps: installing torch (CPU), transformers and tokenizers for python3"
  python3 -m pip install --quiet --disable-pip-version-check torch --index-url https://download.pytorch.org/whl/cpu 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check torch 2>/dev/null ||
    echo "install_deps: torch not installed"
  python3 -m pip install --quiet --disable-pip-version-check transformers tokenizers 2>/dev/null ||
    echo "install_deps: transformers/tokenizers not installed"
fi
