#!/usr/bin/env bash
# fds.sh: the command gets fds 0, 1, 2 only; --preserve-fds N keeps 3..N+2
# (enter(1) --preserve-fds). Whatever fds the test runner itself leaks into this shell
# are a realistic part of the test: they must not reach the command either.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"

# fd_list: the fds `ls /proc/self/fd` printed, space-separated, sorted.
fd_list() {
	sort -n <<<"$OUT" | tr '\n' ' '
}

# check_fds LABEL: 0 1 2 plus the one ls opens for the directory, nothing else.
check_fds() {
	local fds
	fds=$(fd_list)
	expect_no_match "$1: fd 7 not passed" "$OUT" '^7$'
	expect_no_match "$1: fd 8 not passed" "$OUT" '^8$'
	if [[ $fds =~ ^0\ 1\ 2\ [0-9]+\ $ ]]; then
		pass "$1: only 0 1 2 and ls's own directory fd"
	else
		fail "$1: only 0 1 2 and ls's own directory fd" "got: $fds"
	fi
}

run_cmd "$ENTER" "$R" --no-activate -- /bin/busybox ls /proc/self/fd 7</dev/null 8</dev/null
expect_ok "enter R --no-activate -- ls /proc/self/fd runs"
check_fds "--no-activate"

run_cmd "$ENTER" "$R" -- ls /proc/self/fd 7</dev/null 8</dev/null
expect_ok "enter R -- ls /proc/self/fd (activating) runs"
check_fds "activating"

# No fd of enter's own reaches activation either.
F=$T/fdscan
make_root "$F"
activate=$F$(readlink "$F/nix/var/nix/profiles/system-1-link")/activate
cat >>"$activate" <<'EOF'
ls /proc/self/fd >/run/activate-fds
EOF
run_cmd "$ENTER" "$F" -- cat /run/activate-fds 7</dev/null
expect_ok "activate listing its fds runs"
expect_no_match "activation does not get fd 7" "$OUT" '^7$'
fds=$(sort -n <<<"$OUT" | tr '\n' ' ')
if [[ $fds =~ ^0\ 1\ 2\ [0-9]+\ $ ]]; then
	pass "activation gets only 0 1 2 (and ls's own fd)"
else
	fail "activation gets only 0 1 2 (and ls's own fd)" "got: $fds"
fi

# Nor through pid 1, whose fds target code can open as /proc/1/fd/N (it is
# root in the namespace): while activation ran, pid 1 held the caller's fds
# and ROOT's directory fd from the host, whose .. leads out of ROOT.
P=$T/pid1scan
make_root "$P"
activate=$P$(readlink "$P/nix/var/nix/profiles/system-1-link")/activate
cat >>"$activate" <<'EOF'
for f in /proc/1/fd/*; do
	echo "${f##*/} $(readlink "$f") $([ -d "$f" ] && echo dir)"
done >/run/pid1-fds
EOF
run_cmd "$ENTER" "$P" -- cat /run/pid1-fds 7<"$T" 9</dev/null
expect_ok "activation listing the fds of pid 1 runs"
# (The namespace's own / it may hold: its .. is itself.)
expect_no_match "during activation, pid 1 holds no directory but the new /" "$OUT" \
	'^[0-9]+ (/[^ ]+|[^/ ][^ ]*) dir$'
expect_no_match "during activation, pid 1 holds none of the caller's fds (7, 9)" "$OUT" '^[79] '

# --- --preserve-fds

echo three >"$T/f3"
echo four >"$T/f4"
echo five >"$T/f5"

run_cmd "$ENTER" --preserve-fds 2 "$R" -- sh -c 'cat <&3; cat <&4' 3<"$T/f3" 4<"$T/f4" 5<"$T/f5"
expect_ok "--preserve-fds 2 runs"
expect_eq "--preserve-fds 2: fds 3 and 4 readable inside" $'three\nfour' "$OUT"

run_cmd "$ENTER" --preserve-fds 2 "$R" -- sh -c 'cat <&5' 3<"$T/f3" 4<"$T/f4" 5<"$T/f5"
expect_ne "--preserve-fds 2: fd 5 not passed" 0 "$STATUS"
expect_not_contains "--preserve-fds 2: fd 5's content not read" "$OUT" five

run_cmd "$ENTER" "$R" -- sh -c 'cat <&3' 3<"$T/f3"
expect_ne "without --preserve-fds: fd 3 not passed" 0 "$STATUS"
expect_not_contains "without --preserve-fds: fd 3's content not read" "$OUT" three

run_cmd "$ENTER" --preserve-fds 1 "$R" --no-activate -- /bin/busybox ls /proc/self/fd 3<"$T/f3" 7</dev/null
fds=$(fd_list)
if [[ $fds =~ ^0\ 1\ 2\ 3\ [0-9]+\ $ ]]; then
	pass "--preserve-fds 1: 0 1 2 3 and ls's own fd, not 7"
else
	fail "--preserve-fds 1: 0 1 2 3 and ls's own fd, not 7" "got: $fds" "$(last_run)"
fi
