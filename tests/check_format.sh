#!/bin/sh
# check_format.sh [BASE]: the C lines changed since BASE (default: main)
# against .clang-format. The tree was not reformatted in one go, so only
# changed lines are held to it; prints what clang-format would change and
# exits 1 when anything, 0 when nothing. Needs clang-format (Debian's
# clang-format package, which brings clang-format-diff).
set -eu
base=${1:-main}
cd "$(git rev-parse --show-toplevel)"
fmtdiff=$(command -v clang-format-diff || command -v clang-format-diff-14 || true)
if [ -z "$fmtdiff" ]; then
  echo "check_format: clang-format-diff not found (apt-get install clang-format)" >&2
  exit 2
fi
out=$(git diff -U0 "$base" -- '*.c' '*.h' | "$fmtdiff" -p1)
if [ -n "$out" ]; then
  printf '%s\n' "$out"
  echo "check_format: the lines above, changed since $base, are not as .clang-format writes them" >&2
  exit 1
fi
