#!/usr/bin/env bash
# Checks that tools/setup.sh installs every Debian -dev package whose files the configured build
# uses: each /usr path in the CMake cache is traced to its package (dpkg -S), and each such -dev
# package must be listed by setup.sh or be a Depends (recursively) of one it lists. A package
# that only a Recommends brings in fails the check: setup installs with --no-install-recommends,
# so a fresh machine would lack it (libdnnl-dev's cmake config needs ocl-icd-opencl-dev).
#   tools/check_setup_packages.sh build/CMakeCache.txt
set -euo pipefail
cache="${1:?usage: check_setup_packages.sh CMAKE_CACHE}"
cd "$(dirname "$0")/.."
[[ -f "$cache" ]] || { echo "check_setup_packages: no CMake cache at $cache" >&2; exit 2; }
command -v dpkg >/dev/null || { echo "check_setup_packages: dpkg not found (not a Debian machine)" >&2; exit 2; }

listed=$(tools/setup.sh --list-packages | sort -u)
closure=$( { echo "$listed"; apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances $listed 2>/dev/null \
  | sed -n 's/^ *|\?\(Pre\)\?Depends: <\?\([^>]*\)>\?$/\2/p'; } | sed 's/:any$//' | sort -u)

# Paths in the cache (FOO_DIR=/usr/..., FOO_LIBRARY=/usr/lib/...); owners; -dev packages only.
paths=$(grep -o '=/usr/[^;]*' "$cache" | cut -c2- | sort -u)
missing=()
checked=0
while read -r path; do
  # Files only: a directory such as /usr/include belongs to many packages at once.
  [[ -f "$path" ]] || continue
  owners=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1 | tr ',' '\n' | tr -d ' ') || true
  for pkg in $owners; do
    [[ "$pkg" == *-dev ]] || continue
    checked=$((checked + 1))
    if ! grep -qx -- "$pkg" <<<"$closure"; then
      missing+=("$pkg (owns $path)")
    fi
  done
done <<<"$paths"

if ((${#missing[@]})); then
  echo "check_setup_packages: the build uses -dev packages that tools/setup.sh does not install:"
  printf '  %s\n' "${missing[@]}" | sort -u
  exit 1
fi
echo "check_setup_packages: $checked cache paths from -dev packages, all installed by tools/setup.sh"
