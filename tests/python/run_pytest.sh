#!/usr/bin/env bash
# The Python package's test, as a user installs it: a fresh venv, `pip install .` of the source
# tree into it, then pytest on tests/python from outside the source tree.
#   tests/python/run_pytest.sh SOURCE_DIR BINARY_DIR [PYTEST ARGS...]
# The venv (BINARY_DIR/python-test/venv, made anew each run) is made from the Python of the
# repo's .venv (tools/setup.sh) with Debian's site packages (numpy) and borrows the build backend
# and pytest from .venv (tools/requirements.txt) through a .pth file: nothing is downloaded.
# The wheel's CMake build (BINARY_DIR/python-wheel) is kept between runs, so a second install
# rebuilds only what changed. TFC_COMPILER / TFC_TFRUN point the tests at BINARY_DIR/bin.
set -euo pipefail
src=$(cd "$1" && pwd)
bin=$(cd "$2" && pwd)
shift 2
dev_python=$src/.venv/bin/python
if [[ ! -x $dev_python ]]; then
  echo "run_pytest: $dev_python is missing: run tools/setup.sh" >&2
  exit 1
fi
for module in scikit_build_core pytest; do
  if ! "$dev_python" -c "import $module" 2>/dev/null; then
    echo "run_pytest: $module is not in .venv: run tools/setup.sh (tools/requirements.txt)" >&2
    exit 1
  fi
done

work=$bin/python-test
venv=$work/venv
rm -rf "$venv"
mkdir -p "$work"
"$dev_python" -m venv --system-site-packages --without-pip "$venv"
purelib='import sysconfig; print(sysconfig.get_paths()["purelib"])'
"$dev_python" -c "$purelib" > "$("$venv/bin/python" -c "$purelib")/tfc_test_dev_venv.pth"

echo "run_pytest: pip install $src into $venv"
start=$(date +%s)
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-${TFC_JOBS:-2}} \
  "$venv/bin/python" -m pip install --no-build-isolation --no-deps --quiet \
  --config-settings=build-dir="$bin/python-wheel" "$src"
echo "run_pytest: installed in $(( $(date +%s) - start )) s"

cd "$work" # not the source tree: `import tfc` must be the installed package
export TFC_COMPILER=$bin/bin/tfc TFC_TFRUN=$bin/bin/tfrun TFC_SOURCE_DIR=$src
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$src/tests/python" "$@"
