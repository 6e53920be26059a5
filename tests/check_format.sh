#!/bin/sh
# check_format.sh [--all | BASE]: the C sources against .clang-format.
#   --all  every tracked .c/.h file (the tree is formatted: ctest `format`
#          runs this, so CI refuses a change that is not);
#   BASE   only the lines changed since BASE (default: main), for a branch
#          that wants to know before it is merged.
# Prints what clang-format would change and exits 1 when anything, 0 when
# nothing, 77 (skipped) without clang-format or outside a git checkout.
# Needs Debian's clang-format 14 (it brings clang-format-diff).
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || { echo "check_format: clang-format not found (apt-get install clang-format)" >&2; exit 77; }
git rev-parse --show-toplevel >/dev/null 2>&1 || { echo "check_format: not a git checkout" >&2; exit 77; }
if [ "${1:-}" = "--all" ]; then
  files=$(git ls-files '*.c' '*.h')
  # shellcheck disable=SC2086
  if ! clang-format --style=file --dry-run --Werror $files; then
    echo "check_format: the files above are not as .clang-format writes them (clang-format -i FILE)" >&2
    exit 1
  fi
  exit 0
fi
base=${1:-main}
fmtdiff=$(command -v clang-format-diff || command -v clang-format-diff-14 || true)
if [ -z "$fmtdiff" ]; then
  echo "check_format: clang-format-diff not found (apt-get install clang-format)" >&2
  exit 77
fi
out=$(git diff -U0 "$base" -- '*.c' '*.h' | "$fmtdiff" -p1)
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  echo "check_format: the lines above, changed since $base, are not as .clang-format writes them" >&2
  exit 1
fi
