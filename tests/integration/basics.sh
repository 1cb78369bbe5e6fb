#!/usr/bin/env bash
# basics.sh: hostname, the default login shell, -c, --root, --system, the
# view of / inside, --help and --version (enter(1)).
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"
SYSTEM=$(readlink "$R/nix/var/nix/profiles/system-1-link")
host_hostname=$(hostname)

# --- hostname: the target's, never the rescue system's

run_cmd "$ENTER" "$R" -- hostname
expect_ok "enter R -- hostname runs"
expect_eq "hostname inside is the target's etc/hostname" fixturehost "$OUT"
expect_ne "hostname inside is not the host's" "$host_hostname" "$OUT"
expect_eq "the host's hostname is unchanged" "$host_hostname" "$(hostname)"

run_cmd "$ENTER" --hostname foo "$R" -- hostname
expect_eq "--hostname foo overrides etc/hostname" foo "$OUT"

R2=$T/nohostname
make_root "$R2"
rm "$R2/etc/hostname"
run_cmd "$ENTER" --hostname foo "$R2" -- hostname
expect_eq "--hostname foo on a root without etc/hostname" foo "$OUT"

run_cmd "$ENTER" "$R2" -- hostname
if [[ $STATUS == 0 ]]; then
	expect_ne "no etc/hostname, no --hostname: still not the host's hostname" \
		"$host_hostname" "$OUT"
else
	pass "no etc/hostname, no --hostname: refused ($STATUS), did not use the host's"
fi

# --- the default command: the system's bash, as a login shell, reading stdin

# shellcheck disable=SC2016 # expanded by the shell inside
run_cmd "$ENTER" "$R" < <(printf '%s\n' 'echo "$0|$SHELL|${FIXTURE_LOGIN_PROFILE:-}"' 'exit 7')
expect_eq "default shell reads a piped stdin and exits 7" 7 "$STATUS"
IFS='|' read -r zero shell login <<<"$OUT"
expect_ne "default shell printed \$0" "" "$zero"
expect_match "SHELL is the system's bash" "$shell" '/sw/bin/bash$'
expect_eq "default shell is a login shell (read /etc/profile)" 1 "$login"

# --- nixos-enter compatible forms

run_cmd "$ENTER" --root "$R" -c 'echo hi'
expect_ok "--root R -c 'echo hi' runs"
expect_eq "--root R -c 'echo hi' prints hi" hi "$OUT"

run_cmd "$ENTER" --root "$R" -c 'exit 9'
expect_eq "-c STRING: the string's exit status" 9 "$STATUS"

run_cmd "$ENTER" --system "$SYSTEM" "$R" -- cat /run/activated
expect_ok "--system STOREPATH runs"
expect_eq "--system STOREPATH: that system was activated" 1 "$OUT"

# --- / inside is ROOT, nothing of the host

run_cmd "$ENTER" "$R" -- ls -a /
expect_ok "ls / inside runs"
inside=$(grep -vxE '\.|\.\.' <<<"$OUT" | LC_ALL=C sort)
outside=$(find "$R" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort)
expect_eq "ls / inside lists exactly ROOT's entries" "$outside" "$inside"

run_cmd "$ENTER" --verbose "$R" -- true
expect_ok "--verbose runs"
expect_no_match "--verbose: entered with pivot_root, not chroot" "$ERR" '(^|[^_[:alnum:]])chroot([^_[:alnum:]]|$)'
expect_match "--verbose: a line per step" "$ERR" '^enter: proc /proc$'
run_cmd "$ENTER" "$R" --no-activate -- /bin/busybox true
expect_eq "without --verbose: nothing on stderr" "" "$ERR"

# Each debug record pid 1 sends is a write that wakes enter: none unless
# --verbose asked for them (a record is u16 length, 'L', i32 level 3).
if command -v strace >/dev/null; then
	debug_records() {
		strace -f -qq -e trace=write -e signal=none -o "$T/trace" "$ENTER" "$@" "$R" -- true \
			>/dev/null 2>&1
		grep -c 'L\\3\\0\\0\\0' "$T/trace"
	}
	expect_eq "without --verbose pid 1 sends no debug records" 0 "$(debug_records)"
	n=$(debug_records --verbose)
	check "with --verbose pid 1 sends them (the count can fail: $n)" test "$n" -gt 5
else
	pass "debug records not counted # SKIP strace not installed"
fi

# --- --help, --version

run_cmd "$ENTER" --help
expect_ok "--help exits 0"
expect_contains "--help prints usage on stdout" "$OUT" "ROOT"
run_cmd "$ENTER" --version
expect_ok "--version exits 0"
expect_match "--version prints a version on stdout" "$OUT" '[0-9]+\.[0-9]+'
