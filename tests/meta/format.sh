#!/bin/bash
# Formatting is a check, not a review topic: clang-format with .clang-format.
set -euo pipefail
cd "$1"
if ! command -v clang-format >/dev/null; then
	echo "clang-format not installed" >&2
	exit 77
fi
clang-format --dry-run --Werror include/*.h libenter/*.[ch] tools/*.[ch] tests/unit/*.c tests/helpers/*.c bench/*.c examples/*.c
echo "formatted: $(ls include/*.h libenter/*.[ch] tools/*.[ch] tests/unit/*.c tests/helpers/*.c bench/*.c examples/*.c | wc -l) files"
