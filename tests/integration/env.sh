#!/usr/bin/env bash
# env.sh: the command's environment (enter(1) ENVIRONMENT): exactly the listed
# variables, nothing of the rescue system; --setenv, --keep-env, --unsetenv,
# --generic.
#
# `env` is busybox's, called by absolute path: with --no-activate there is no
# /run/current-system/sw/bin for PATH to find it in, and going through a
# shell would add PWD and SHLVL.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"

NIXOS_PATH=/run/wrappers/bin:/root/.nix-profile/bin:/nix/var/nix/profiles/default/bin:/run/current-system/sw/bin
GENERIC_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# What a rescue shell under sudo over ssh might have.
host_env=(
	PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/alice USER=alice LOGNAME=alice SHELL=/bin/zsh
	SUDO_USER=alice SUDO_UID=1000 SUDO_COMMAND=/bin/bash NIX_PATH=nixpkgs=/host/nixpkgs
	NIX_REMOTE=daemon TMPDIR=/host/tmp SSH_AUTH_SOCK=/host/agent.sock
	'SSH_CONNECTION=192.0.2.1 22 192.0.2.2 22' DISPLAY=:0 HOSTNAME=rescue FOO=bar
	TERM=xterm-test LANG=C.UTF-8 LC_TIME=C
)

# run_env ENTER-ARGS...: run enter under exactly host_env.
run_env() {
	run_cmd env -i "${host_env[@]}" "$ENTER" "$@"
}

names() {
	cut -d= -f1 <<<"$OUT" | LC_ALL=C sort | tr '\n' ' '
}

value() {
	sed -n "s/^$1=//p" <<<"$OUT"
}

# --- the default environment

run_env "$R" --no-activate -- /bin/busybox env
expect_ok "enter R --no-activate -- env runs"
expect_eq "exactly the contract's variables" \
	"HOME IN_NIXOS_ENTER LANG LC_TIME LOGNAME PATH SHELL TERM USER " "$(names)"
expect_eq "PATH" "$NIXOS_PATH" "$(value PATH)"
expect_eq "HOME" /root "$(value HOME)"
expect_eq "USER" root "$(value USER)"
expect_eq "LOGNAME" root "$(value LOGNAME)"
expect_eq "IN_NIXOS_ENTER" 1 "$(value IN_NIXOS_ENTER)"
expect_eq "TERM passed through" xterm-test "$(value TERM)"
expect_eq "LANG passed through" C.UTF-8 "$(value LANG)"
expect_eq "LC_TIME passed through" C "$(value LC_TIME)"
shell=$(value SHELL)
expect_ne "SHELL is set" "" "$shell"
expect_ne "SHELL is not the host's" /bin/zsh "$shell"
for leak in SUDO_USER SUDO_UID SUDO_COMMAND NIX_PATH NIX_REMOTE TMPDIR SSH_AUTH_SOCK \
	SSH_CONNECTION DISPLAY HOSTNAME FOO; do
	expect_no_match "$leak is not passed" "$OUT" "^$leak="
done

# With activation too (another code path: the command starts after activate).
run_env "$R" -- /bin/busybox env
expect_ok "enter R -- env (activating) runs"
expect_eq "activating: the same variables" \
	"HOME IN_NIXOS_ENTER LANG LC_TIME LOGNAME PATH SHELL TERM USER " "$(names)"

# --- adjustments

run_env "$R" --no-activate --setenv A=b -- /bin/busybox env
expect_eq "--setenv A=b" b "$(value A)"
run_env "$R" --no-activate --setenv 'MULTI=x=y z' -- /bin/busybox env
expect_eq "--setenv value with = and a space" "x=y z" "$(value MULTI)"
run_env "$R" --no-activate --setenv PATH=/bin -- /bin/busybox env
expect_eq "--setenv overrides a default (PATH)" /bin "$(value PATH)"

run_env "$R" --no-activate --keep-env FOO -- /bin/busybox env
expect_eq "--keep-env FOO" bar "$(value FOO)"
expect_no_match "--keep-env FOO keeps only FOO" "$OUT" '^SUDO_USER='
run_env "$R" --no-activate --keep-env FOO --keep-env DISPLAY -- /bin/busybox env
expect_eq "--keep-env is repeatable (FOO)" bar "$(value FOO)"
expect_eq "--keep-env is repeatable (DISPLAY)" :0 "$(value DISPLAY)"

run_env "$R" --no-activate --unsetenv TERM -- /bin/busybox env
expect_ok "--unsetenv TERM runs"
expect_no_match "--unsetenv TERM" "$OUT" '^TERM='
expect_eq "--unsetenv TERM leaves LANG" C.UTF-8 "$(value LANG)"

# --- --generic: any Linux root, generic PATH, same hygiene

run_env --generic "$R" -- /bin/busybox env
expect_ok "--generic on a NixOS root runs"
expect_eq "--generic PATH" "$GENERIC_PATH" "$(value PATH)"
expect_no_match "--generic: SUDO_USER not passed" "$OUT" '^SUDO_USER='
expect_eq "--generic: HOME" /root "$(value HOME)"

G=$T/generic
make_root "$G"
rm "$G/etc/NIXOS"
run_env --generic "$G" -- /bin/busybox env
expect_ok "--generic on a root without etc/NIXOS runs"
expect_eq "--generic PATH without etc/NIXOS" "$GENERIC_PATH" "$(value PATH)"
expect_no_match "--generic without etc/NIXOS: NIX_PATH not passed" "$OUT" '^NIX_PATH='
