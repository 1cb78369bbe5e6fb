#!/usr/bin/env bash
# exitcodes.sh: enter's exit status (enter(1) EXIT STATUS): the command's own,
# 128+N for a signal, 125 enter failed, 126 not executable or not a NixOS
# root, 127 not found; errors are one line on stderr.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

R=$T/root
make_root "$R"

# --- the command's status

for n in 0 1 42 255; do
	expect_status "$n" "$ENTER" "$R" -- sh -c "exit $n"
done
expect_status 138 "$ENTER" "$R" -- sh -c 'kill -USR1 $$'
expect_status 137 "$ENTER" "$R" -- sh -c 'kill -KILL $$'
expect_status 143 "$ENTER" "$R" -- sh -c 'kill -TERM $$'
expect_status 0 "$ENTER" "$R" --no-activate -- /bin/busybox true
expect_status 1 "$ENTER" "$R" --no-activate -- /bin/busybox false

# --- the command cannot be run

expect_status 127 "$ENTER" "$R" --no-activate -- /nonexistent
expect_one_line_error "/nonexistent: one-line error naming the command" /nonexistent
expect_eq "/nonexistent: nothing on stdout" "" "$OUT"

expect_status 127 "$ENTER" "$R" -- no-such-command-here
expect_contains "command not in PATH: stderr names it" "$ERR" no-such-command-here
expect_not_contains "command not in PATH, activated: no --no-activate hint" "$ERR" "--no-activate"

# --no-activate: PATH leads into /run/current-system, which activation makes:
# a bare name is not found there, and the line says where the system has it.
expect_status 127 "$ENTER" "$R" --no-activate -- sh -c true
expect_one_line_error "--no-activate, a bare name: one line naming it" sh
expect_contains "--no-activate, a bare name: says why and where it is" "$ERR" \
	"(--no-activate: no /run/current-system, which PATH leads to; /nix/var/nix/profiles/system/sw/bin/sh is the system's own)"

printf '#!/bin/sh\necho should not run\n' >"$R/root/notexec"
chmod 0644 "$R/root/notexec"
expect_status 126 "$ENTER" "$R" --no-activate -- /root/notexec
expect_one_line_error "non-executable file: one-line error naming it" /root/notexec
expect_eq "non-executable file: nothing on stdout" "" "$OUT"

expect_status 126 "$ENTER" "$R" --no-activate -- /etc
expect_one_line_error "a directory as command: one-line error naming it" /etc

# A script for another system: the file is there, its interpreter is not.
# The kernel says ENOENT, as for a missing file; enter must not.
printf '#!/bin/bash\necho should not run\n' >"$R/root/fix.sh"
chmod 0755 "$R/root/fix.sh"
expect_status 126 "$ENTER" "$R" --no-activate -- /root/fix.sh
expect_one_line_error "#!/bin/bash where there is none: one-line error naming the script" /root/fix.sh
expect_contains "#!/bin/bash where there is none: the error names the missing interpreter" \
	"$ERR" "its interpreter /bin/bash (the #! line) was not found"
expect_not_contains "#!/bin/bash where there is none: not \"command not found\"" "$ERR" "command not found"

# A program built for another system: its dynamic loader (/lib64/ld-linux...)
# is not in the target, and the kernel says ENOENT again.
cp /bin/true "$R/root/foreign"
expect_status 126 "$ENTER" "$R" --no-activate -- /root/foreign
expect_one_line_error "a program whose loader is missing: one line naming it" /root/foreign
expect_contains "a program whose loader is missing: the error says so" "$ERR" \
	"its dynamic loader was not found"

# --- the root is not a NixOS root

N=$T/notnixos
make_root "$N"
rm "$N/etc/NIXOS"
expect_status 126 "$ENTER" "$N" -- /bin/busybox true
expect_one_line_error "no etc/NIXOS: one-line error" "not a NixOS root"
check "no etc/NIXOS: nothing created in ROOT" test ! -e "$N/tmp" -a ! -e "$N/dev"
expect_status 0 "$ENTER" --generic "$N" -- /bin/busybox true
expect_status 3 "$ENTER" --generic "$N" -- /bin/sh -c 'exit 3'

# --- enter itself fails

expect_status 125 "$ENTER" --no-such-option "$R" -- true
expect_ne "bad option: a message on stderr" "" "$ERR"
expect_eq "bad option: nothing on stdout" "" "$OUT"
expect_status 125 "$ENTER" --bind "$T/does-not-exist" /mnt "$R" -- true
expect_one_line_error "--bind from a missing source: one-line error" "$T/does-not-exist"
expect_status 125 "$ENTER"
expect_ne "no ROOT: a message on stderr" "" "$ERR"
# Usage errors: one line of enter's own (not getopt's, which starts with
# the path of the binary), and options that cannot both be meant refused
# rather than one of them dropped.
usage_error() {
	local desc=$1 word=$2
	shift 2
	expect_status 125 "$ENTER" "$@"
	expect_one_line_error "$desc: one line naming $word" "$word"
	expect_eq "$desc: nothing on stdout" "" "$OUT"
}
usage_error "an unknown long option" "--no-such-option" "$R" --no-such-option -- true
usage_error "an unknown short option" "-x" "$R" -x -- true
usage_error "-c without its value" "-c" "$R" -c
usage_error "--hostname without its value" "--hostname" "$R" --hostname
usage_error "-c and a command after --" "-c" "$R" -c 'touch /tmp/ran' -- /bin/busybox true
usage_error "--check and a command" "--check" "$R" --check -- /bin/busybox true
usage_error "--check and --dry-run" "--dry-run" "$R" --check --dry-run
usage_error "--json alone" "--json" "$R" --json -- /bin/busybox true
usage_error "--root twice" "--root" --root "$R" --root "$R" -- /bin/busybox true
check "usage errors: nothing ran" test ! -e "$R/tmp/ran"

# The system's error texts as the middle of the line: lower case.
expect_status 125 "$ENTER" --boot "$T/nonexistent" "$R" -- /bin/busybox true
expect_match "--boot missing SRC: 'no such file or directory', lower case" "$ERR" \
	": no such file or directory\$"
expect_status 125 "$ENTER" ""
expect_one_line_error "an empty ROOT: one-line error" "no root given"
expect_not_contains "an empty ROOT: no empty path in the line" "$ERR" " :"
