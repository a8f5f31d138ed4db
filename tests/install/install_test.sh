#!/usr/bin/env bash
# install_test.sh - tfc as a library people embed, checked from the outside (ctest: install_example).
#
#   tests/install/install_test.sh BUILD_DIR SOURCE_DIR
#
# Installs BUILD_DIR into a fresh prefix and checks, using the prefix only (never the build tree):
#  1. the layout: headers, libtfc_runtime.so (versioned), libtfc_runtime.a, libtfc_wait_policy.so,
#     libtfc_cuda.so when built, tfc/tfrun, the CMake package, tfc.pc;
#  2. the symbols: `nm -D --defined-only libtfc_runtime.so` lists exactly the functions declared in
#     the installed tfc_runtime.h (TFC_API), nothing else;
#  3. pkg-config --cflags --libs tfc builds and runs a C program against the prefix;
#  4. the installed tools run from the prefix (--help) and load the prefix's libraries;
#  5. examples/embed configures with find_package(tfc) (CMAKE_PREFIX_PATH=prefix), builds, and
#     prints what tfrun prints on the same plan and text: greedy generation with chargpt (compiled
#     by the installed tfc; also with the example linked statically, tfc::runtime_static),
#     sentence embeddings with all-MiniLM-L6-v2 when BUILD_DIR/models has it.
# Any difference fails (exit 1), naming what differs.
set -euo pipefail
build="$(cd "${1:?usage: install_test.sh BUILD_DIR SOURCE_DIR}" && pwd)"
src="$(cd "${2:?usage: install_test.sh BUILD_DIR SOURCE_DIR}" && pwd)"
unset LD_LIBRARY_PATH TFC_BACKEND_DIR
work="$(mktemp -d "${TMPDIR:-/tmp}/tfc-install-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
# Where the dynamic loader finds libtfc_runtime for the program $1 (a canonical directory).
runtime_dir_of() {
  local lib
  lib=$(ldd "$1" | awk '$1 ~ /^libtfc_runtime\.so/ {print $3}')
  [[ -n "$lib" && -e "$lib" ]] && dirname "$(readlink -f "$lib")"
}
step() { echo "== $*"; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }

# ---- 1. layout ----------------------------------------------------------------------------------
step "layout"
expect=(include/tfc/tfc_runtime.h include/tfc/tfc_runtime.hpp
        lib/libtfc_runtime.so lib/libtfc_runtime.a lib/libtfc_wait_policy.so
        lib/cmake/tfc/tfcConfig.cmake lib/cmake/tfc/tfcConfigVersion.cmake
        lib/cmake/tfc/tfcTargets.cmake lib/pkgconfig/tfc.pc bin/tfrun)
[[ -f "$build/bin/tfc" ]] && expect+=(bin/tfc)
[[ -f "$build/lib/libtfc_cuda.so" ]] && expect+=(lib/libtfc_cuda.so)
for f in "${expect[@]}"; do
  [[ -e "$prefix/$f" ]] || fail "$f is not installed"
done
soname=$(readelf -d "$prefix/lib/libtfc_runtime.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ "$soname" =~ ^libtfc_runtime\.so\.[0-9]+$ ]] || fail "SONAME is '$soname', not libtfc_runtime.so.<major>"
[[ -e "$prefix/lib/$soname" ]] || fail "$soname (the SONAME) is not installed"
if grep -rlF -e "$build" -e "$src/" "$prefix/lib/cmake" "$prefix/lib/pkgconfig"; then
  fail "the installed CMake/pkg-config files above name the build or source tree"
fi

# ---- 2. symbols ---------------------------------------------------------------------------------
step "nm -D --defined-only lib/libtfc_runtime.so"
nm -D --defined-only "$prefix/lib/libtfc_runtime.so" | awk '{print $NF}' | sed 's/@.*//' \
  | sort -u > "$work/exported"
sed -n 's/^TFC_API [^(]*[ *]\(tfc_[a-z0-9_]*\)(.*/\1/p' "$prefix/include/tfc/tfc_runtime.h" \
  | sort -u > "$work/declared"
declared=$(wc -l < "$work/declared")
exported=$(wc -l < "$work/exported")
(( declared > 50 )) || fail "only $declared TFC_API functions found in tfc_runtime.h: the parse is broken"
if ! diff "$work/declared" "$work/exported" > "$work/symbols.diff"; then
  echo "(< declared in tfc_runtime.h only, > exported by libtfc_runtime.so only)"
  cat "$work/symbols.diff"
  fail "libtfc_runtime.so exports $exported symbols, tfc_runtime.h declares $declared functions"
fi
echo "exported = declared = $declared tfc_* functions"

# ---- 3. pkg-config ------------------------------------------------------------------------------
step "pkg-config --cflags --libs tfc"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs tfc) || fail "pkg-config tfc"
echo "$flags"
cat > "$work/hello.c" <<'C'
#include "tfc/tfc_runtime.h"
#include <stdio.h>
int main(void) {
  for (size_t i = 0; i < tfc_backend_count(); ++i)
    printf("backend %s\n", tfc_backend_name(i));
  return tfc_backend_count() > 0 ? 0 : 1;
}
C
# shellcheck disable=SC2086
cc -std=c99 -Wall -Werror "$work/hello.c" -o "$work/hello" $flags \
  -Wl,-rpath,"$(pkg-config --variable=libdir tfc)" || fail "a C program does not build with pkg-config's flags"
"$work/hello" | grep -qx "backend cpu" || fail "the pkg-config-built C program does not run"

# ---- 4. the installed tools ---------------------------------------------------------------------
tools=(tfrun)
[[ -x "$prefix/bin/tfc" ]] && tools+=(tfc)
for t in "${tools[@]}"; do
  step "$prefix/bin/$t --help"
  "$prefix/bin/$t" --help > "$work/$t.help" 2>&1 || { cat "$work/$t.help"; fail "$t --help"; }
  grep -q "$t" "$work/$t.help" || fail "$t --help does not name $t"
  if ldd "$prefix/bin/$t" | grep -F "$build"; then
    fail "the installed $t loads libraries from the build tree"
  fi
done
[[ "$(runtime_dir_of "$prefix/bin/tfrun")" == "$(readlink -f "$prefix/lib")" ]] \
  || { ldd "$prefix/bin/tfrun"; fail "the installed tfrun does not load the prefix's libtfc_runtime"; }

# ---- 5. examples/embed against the prefix --------------------------------------------------------
step "examples/embed: configure with -DCMAKE_PREFIX_PATH=$prefix, build"
gen=()
command -v ninja > /dev/null && gen=(-G Ninja)
cmake -S "$src/examples/embed" -B "$work/embed" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" > "$work/embed.configure.log" 2>&1 \
  || { cat "$work/embed.configure.log"; fail "examples/embed does not configure against the prefix"; }
grep -q "^tfc_DIR:PATH=$prefix/lib/cmake/tfc$" "$work/embed/CMakeCache.txt" \
  || fail "find_package(tfc) did not find the prefix's package: $(grep '^tfc_DIR' "$work/embed/CMakeCache.txt")"
cmake --build "$work/embed" > "$work/embed.build.log" 2>&1 \
  || { cat "$work/embed.build.log"; fail "examples/embed does not build"; }
embed="$work/embed/tfc_embed"
[[ "$(runtime_dir_of "$embed")" == "$(readlink -f "$prefix/lib")" ]] \
  || { ldd "$embed"; fail "tfc_embed does not load the prefix's libtfc_runtime"; }

if [[ ! -x "$prefix/bin/tfc" ]]; then
  echo "install_test: no tfc in this build (runtime only): no plans to run the example on"
  echo "install_test: PASS (layout, symbols, pkg-config, tools, example build)"
  exit 0
fi

# Outputs compared: the text lines of both programs (tfrun adds timing lines around them).
compare() { # name, expected file, actual file
  if ! diff "$2" "$3" > "$work/$1.diff"; then
    echo "(< tfrun, > tfc_embed)"; cat "$work/$1.diff"
    fail "$1: tfc_embed and tfrun differ"
  fi
  [[ -s "$2" ]] || fail "$1: nothing to compare (the outputs were not parsed)"
  echo "$1: identical ($(wc -l < "$2") lines)"
}

step "generation: chargpt compiled by the installed tfc, greedy, two prompts"
"$prefix/bin/tfc" compile "$src/examples/models/chargpt.fbs" -o "$work/chargpt.plan" \
  --max-batch 4 > "$work/chargpt.compile.log" 2>&1 || { cat "$work/chargpt.compile.log"; fail "tfc compile chargpt"; }
prompts=("In the beginning" "And the LORD")
"$prefix/bin/tfrun" "$work/chargpt.plan" --generate --max-new-tokens 40 --threads 2 \
  --text "${prompts[0]}" --text "${prompts[1]}" > "$work/gen.tfrun" 2>/dev/null || fail "tfrun --generate"
# tfrun: a header, an empty line, "[i] ..." (possibly over several lines), then "prefill: ...".
sed -n '/^\[0\] /,/^prefill: /p' "$work/gen.tfrun" | sed '$d' > "$work/gen.expected"
"$embed" "$work/chargpt.plan" "${prompts[@]}" --max-new-tokens 40 --threads 2 \
  > "$work/gen.actual" || fail "tfc_embed on the chargpt plan"
compare generation "$work/gen.expected" "$work/gen.actual"

step "examples/embed linked with tfc::runtime_static (-DTFC_EMBED_STATIC=ON)"
cmake -S "$src/examples/embed" -B "$work/embed-static" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DTFC_EMBED_STATIC=ON > "$work/embed-static.log" 2>&1 \
  && cmake --build "$work/embed-static" >> "$work/embed-static.log" 2>&1 \
  || { cat "$work/embed-static.log"; fail "examples/embed does not build with tfc::runtime_static"; }
if readelf -d "$work/embed-static/tfc_embed" | grep -q 'NEEDED.*libtfc_runtime'; then
  fail "the static tfc_embed still needs libtfc_runtime.so"
fi
"$work/embed-static/tfc_embed" "$work/chargpt.plan" "${prompts[@]}" --max-new-tokens 40 \
  --threads 2 > "$work/gen.static" || fail "the static tfc_embed on the chargpt plan"
compare generation-static "$work/gen.expected" "$work/gen.static"

minilm="$build/models/all-MiniLM-L6-v2"
if [[ -f "$minilm/config.json" ]]; then
  step "embeddings: all-MiniLM-L6-v2 compiled by the installed tfc"
  "$prefix/bin/tfc" compile "$minilm" -o "$work/minilm.plan" --max-batch 4 --max-seq 64 \
    > "$work/minilm.compile.log" 2>&1 || { cat "$work/minilm.compile.log"; fail "tfc compile MiniLM"; }
  texts=("How do I reset my password?" "What are the steps to change a forgotten password?"
         "A cat is sleeping on the sofa.")
  "$prefix/bin/tfrun" "$work/minilm.plan" --embed --threads 2 --text "${texts[0]}" \
    --text "${texts[1]}" --text "${texts[2]}" > "$work/emb.tfrun" 2>/dev/null || fail "tfrun --embed"
  grep -E '^\[[0-9]+\] [0-9]+ tokens, embedding|^cosine similarity:|^  \[[0-9]+\] ' \
    "$work/emb.tfrun" > "$work/emb.expected" || true
  "$embed" "$work/minilm.plan" "${texts[@]}" --threads 2 > "$work/emb.actual" || fail "tfc_embed on the MiniLM plan"
  compare embeddings "$work/emb.expected" "$work/emb.actual"
else
  echo "install_test: $minilm absent (tools/get_minilm.sh): embeddings not compared"
fi
echo "install_test: PASS"
