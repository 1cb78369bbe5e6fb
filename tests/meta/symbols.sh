#!/bin/bash
# libenter.so exports exactly the functions of libenter.sym: nothing by accident,
# and needs no library it loads only on demand.
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

# What every run of enter loads: libcap and libseccomp only with --hardened
# (dlopen() in libenter/hardened.c), never as a link-time dependency.
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if grep -E '^lib(cap|seccomp)\.' <<<"$needed" >&2; then
	echo "$lib: links the libraries --hardened loads when needed" >&2
	exit 1
fi
echo "needed: $(echo $needed)"
