#!/bin/bash
# options.sh TOOL MANPAGE COMPLETIONS: every option of `TOOL --help` is
# documented in the man page and offered by the bash, zsh and fish
# completions, and each of those has no option --help lacks: they cannot
# drift.  The completions are asked by each shell itself.
set -euo pipefail
tool=$1 man=$2 completions=$3
name=$(basename "$tool")
failed=0

# compare WHAT LIST: LIST (one option a line) against --help's.
compare() {
	local got
	got=$(sort -u <<<"$2" | sed '/^$/d')
	if [[ $got != "$help_opts" ]]; then
		diff <(echo "$help_opts") <(echo "$got") >&2 || true
		echo "$name: options of --help (<) and of $1 (>) differ" >&2
		failed=1
	fi
}

help_opts=$({
	"$tool" --help | grep -o -- '--[a-z][a-z-]*'
	"$tool" --help | grep -oE '^ +-[a-zA-Z],' | tr -d ' ,'
} | sort -u)
compare "$man" "$(grep -- '^\*-' "$man" | grep -oE -- '\*-(-[a-z][a-z-]*|[a-zA-Z])\*' | tr -d '*')"

for shell in bash zsh fish; do
	command -v "$shell" >/dev/null || { echo "options.sh: $shell is not installed" >&2; exit 77; }
done
bash_completion=/usr/share/bash-completion/bash_completion
[[ -r $bash_completion ]] || { echo "options.sh: bash-completion is not installed" >&2; exit 77; }

# bash: what `TOOL -<TAB>` offers.
compare "$completions/enter.bash" "$(bash -c '
	source "$1"
	source "$2"
	COMP_LINE="$3 -" COMP_POINT=${#COMP_LINE} COMP_WORDS=("$3" -) COMP_CWORD=1
	_enter "$3" - "$3"
	printf "%s\n" "${COMPREPLY[@]}"' bash "$bash_completion" "$completions/enter.bash" "$name")"

# zsh: the names in the _arguments specs of TOOL.
compare "$completions/_enter" "$(zsh -f -c 'source "$1"; _enter_specs "$2"; print -rl -- $reply' zsh \
	"$completions/_enter" "$name" | sed -E 's/^\([^)]*\)//; s/^\*//' | grep -oE '^-(-[a-z][a-z-]*|[a-zA-Z])')"

# fish: what `TOOL -<TAB>` offers.
compare "$completions/enter.fish" "$(fish --no-config -c 'source $argv[1]; complete -C"$argv[2] -"' \
	"$completions/enter.fish" "$name" | cut -f1)"

((failed == 0)) || exit 1
echo "$name: $(echo "$help_opts" | wc -l) options in --help, the man page and the bash, zsh and fish completions"
