#!/bin/bash
# The project's shell (tests, fixtures, benchmarks, CI, completions) is
# checked like its C: shellcheck at warning level, and one rule shellcheck
# does not know. Under `set -o pipefail` a reader that leaves early
# (`grep -q`, `grep -m`, `head`) can kill the writer with SIGPIPE, and the
# pipeline then fails even though the match was found: `ldd X | grep -q Y`
# was false in 1 of 20 runs under load, and made the ASan build's fault test
# fault calls it meant to leave alone. Read from a file, a here-string or a
# process substitution instead.
set -euo pipefail
cd "$1"
if ! command -v shellcheck >/dev/null; then
	echo "shellcheck not installed" >&2
	exit 77
fi

scripts=()
while IFS= read -r -d '' f; do
	scripts+=("$f")
done < <(find tests bench .ci completions -type f \( -name '*.sh' -o -name '*.bash' -o -name run \) -print0 | sort -z)
((${#scripts[@]} > 0)) || {
	echo "no shell scripts found under $PWD" >&2
	exit 1
}

status=0
# One script per shellcheck, as many at once as there are CPUs: -x reads
# lib.sh again for each script that sources it.
printf '%s\0' "${scripts[@]}" | xargs -0 -n 1 -P "$(nproc)" shellcheck -x -S warning || status=1

# A single `|` (not `||`), then an early-leaving reader; comments aside.
early='(^|[^|])\|[[:space:]]*(grep[[:space:]]+(-[[:alnum:]]*[qm]|--quiet|--silent|--max-count)|head([[:space:]]|$))'
if grep -nHE -- "$early" "${scripts[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#'; then
	echo "the lines above end a pipeline with a reader that may leave early:" \
		"under pipefail the writer's SIGPIPE fails the pipeline" >&2
	status=1
fi

((status == 0)) && echo "checked: ${#scripts[@]} scripts"
exit "$status"
