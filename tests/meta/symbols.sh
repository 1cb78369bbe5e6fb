#!/bin/bash
# libenter.so exports exactly the functions of libenter.sym: nothing by accident.
set -euo pipefail
sym=$1 lib=$2
want=$(sed -n 's/^[[:space:]]*\(enter_[a-z_0-9]*\);$/\1/p' "$sym" | sort)
have=$(nm -D --defined-only "$lib" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort)
if [[ "$want" != "$have" ]]; then
	diff <(echo "$want") <(echo "$have") >&2 || true
	echo "exported symbols differ from $sym (< listed only, > exported only)" >&2
	exit 1
fi
echo "exported: $(echo "$have" | wc -l) symbols, as listed"
