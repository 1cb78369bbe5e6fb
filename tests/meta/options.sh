#!/bin/bash
# Every long option of `enter --help` is documented in man/enter.1.scd, and
# every option the man page documents is in --help: they cannot drift.
set -euo pipefail
enter=$1 man=$2
help_opts=$("$enter" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
man_opts=$(grep -- '^\*-' "$man" | grep -o -- '\*--[a-z][a-z-]*\*' | grep -o -- '--[a-z][a-z-]*' | sort -u)
if [[ "$help_opts" != "$man_opts" ]]; then
	diff <(echo "$help_opts") <(echo "$man_opts") >&2 || true
	echo "options of --help (<) and of $man (>) differ" >&2
	exit 1
fi
echo "$(echo "$help_opts" | wc -l) options in both --help and the man page"
