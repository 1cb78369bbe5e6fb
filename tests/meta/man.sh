#!/bin/bash
# man.sh PAGE...: the built man pages (roff from scdoc) hold no formatting
# mark scdoc left as text, such as the `128+_N_` it does not take for
# underlining when a mark is glued to a word: a reader would see the
# underscores.
set -euo pipefail
(($#)) || { echo "usage: man.sh PAGE..." >&2; exit 2; }

# A _word_ or *word* standing alone, outside roff requests (lines with .).
mark='(^|[^A-Za-z0-9_])_[A-Za-z][A-Za-z0-9-]*_($|[^A-Za-z0-9_])'
mark+='|(^|[^A-Za-z0-9*])\*[A-Za-z-][^ *]*\*($|[^A-Za-z0-9*])'
failed=0
for page in "$@"; do
	if left=$(grep -nE -- "$mark" "$page" | grep -v '^[0-9]*:\.'); then
		echo "${page##*/}: scdoc marks left as text:" >&2
		echo "$left" >&2
		failed=1
	fi
done
((failed == 0)) && echo "man.sh: $# pages, no formatting marks left as text"
exit "$failed"
