#!/usr/bin/env bash
# hardened.sh: --hardened denies each system call of its list (EPERM; clone3
# ENOSYS), drops capabilities from every set, and still lets activation and
# an ordinary command run.  A control run without --hardened shows that the
# same calls are not denied otherwise, so the checks can fail.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

[[ -x ${TRY_SYSCALL:-} ]] || skip "try-syscall helper not built (set TRY_SYSCALL)"

R=$T/root
make_root "$R"
run_try() {
	run_cmd "$ENTER" "$R" --silent "$@" --ro-bind "$TRY_SYSCALL" /try-syscall -- /try-syscall
}

run_try
control=$OUT
expect_eq "control: try-syscall runs" 0 "$STATUS"
expect_no_match "control: nothing denied without --hardened" "$control" ' EPERM$'

run_try --hardened
hardened=$OUT
expect_eq "--hardened: try-syscall runs" 0 "$STATUS"
denied=0 total=0
while read -r name result; do
	case $name in
	getppid | ioctl_other) expect_ne "--hardened: $name allowed" EPERM "$result" ;;
	clone3) expect_eq "--hardened: clone3 fails with ENOSYS (libc falls back to clone)" ENOSYS "$result" ;;
	*)
		total=$((total + 1))
		if [[ $result == EPERM ]]; then
			denied=$((denied + 1))
			pass "--hardened: $name denied"
		else
			fail "--hardened: $name denied" "got $result"
		fi
		;;
	esac
done <<<"$hardened"
echo "# denied $denied/$total"

run_cmd "$ENTER" "$R" --silent --hardened -- grep -E '^(CapBnd|CapEff|CapAmb|Seccomp):' /proc/self/status
expect_eq "--hardened: capabilities readable" 0 "$STATUS"
bnd=$(awk '/^CapBnd/ {print $2}' <<<"$OUT")
# CAP_SYS_MODULE (16), CAP_SYS_RAWIO (17), CAP_SYS_BOOT (22), CAP_NET_ADMIN (12),
# CAP_SYS_PTRACE (19), CAP_MKNOD (27), CAP_BPF (39) must be gone; SYS_ADMIN (21) kept.
for cap in 12 16 17 19 22 27 39; do
	expect_eq "--hardened: capability $cap not in the bounding set" 0 $(((16#$bnd >> cap) & 1))
done
expect_eq "--hardened: CAP_SYS_ADMIN kept (nix sandbox, EFI variables)" 1 $(((16#$bnd >> 21) & 1))
expect_contains "--hardened: a seccomp filter is active" "$OUT" $'Seccomp:\t2'

run_cmd "$ENTER" "$R" --hardened -- sh -c 'cat /run/activated; echo ok > /tmp/hardened-ok'
expect_eq "--hardened: activation and a command still work" 0 "$STATUS"
expect_eq "--hardened: activation ran" "1" "$(head -n1 <<<"$OUT")"

# libseccomp is loaded only for --hardened: a run without it needs none, and
# one with it that cannot load it stops before anything is mounted, naming
# the library (here one hidden by /dev/null, in a mount namespace of ours).
libenter=$(ldd "$ENTER" | awk '$1 == "libenter.so.0" { print $3 }')
seccomp=$(strings -a "$libenter" | awk '/^\/.*\/libseccomp\.so\.2$/ && !n++')
if [[ -f $seccomp ]]; then
	run_cmd unshare -m --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' \
		sh "$seccomp" "$ENTER" "$R" --silent --no-activate -- /bin/busybox true
	expect_eq "libseccomp unreadable: a run without --hardened works" 0 "$STATUS"
	expect_status 125 unshare -m --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' \
		sh "$seccomp" "$ENTER" "$R" --silent --hardened --no-activate -- /bin/busybox true
	expect_one_line_error "libseccomp unreadable: --hardened" "hardened $seccomp: cannot load the library"
else
	fail "libenter names the libseccomp it loads" "libenter: $libenter, found: '$seccomp'"
fi
