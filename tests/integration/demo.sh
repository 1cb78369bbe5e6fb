#!/usr/bin/env bash
# demo.sh: the README's first command ends in `build/enter build/demo-root`:
# the demo root the build makes enters, and --check and --dry-run on it show
# the fstab at work (its /boot, an ext4 image the build made), with nothing
# left mounted or attached afterwards.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

D=${BUILD_ROOT:-}/demo-root
[[ -d $D ]] || skip "no demo root (set BUILD_ROOT to a build directory)"

run_cmd "$ENTER" "$D" --check
expect_ok "enter demo-root --check: no problem"
expect_match "--check: /boot is mounted from the demo's fstab" "$OUT" \
	'^mount +/boot +[^ ]*/demo-boot\.img \(ext4\) line [0-9]+: to mount$'
expect_match "--check: the last line is ok" "$(tail -n1 <<<"$OUT")" '^ok$'

run_cmd "$ENTER" "$D" --dry-run
expect_ok "enter demo-root --dry-run"
expect_match "--dry-run: /boot from the fstab line" "$OUT" \
	'^mount +[^ ]*/demo-boot\.img on /boot \(ext4\) .*etc/fstab line [0-9]+$'
expect_contains "--dry-run: its free space is checked" "$OUT" "free space on /boot"

run_cmd "$ENTER" "$D" -- sh -c 'hostname; stat -f -c %T /boot; grep -c " /boot " /proc/self/mountinfo'
expect_ok "enter demo-root -- sh -c ... runs"
expect_eq "inside: the demo's hostname, /boot an ext4 mount" $'fixturehost\next2/ext3\n1' "$OUT"
expect_eq "nothing printed on stderr but activation's line" "activating the configuration..." "$ERR"

# Only the demo's image: other tests attach loop devices at the same time.
expect_eq "no loop device left attached to demo-boot.img" "" \
	"$(losetup -n -O NAME -j "$BUILD_ROOT/demo-boot.img")"
expect_eq "nothing mounted on the demo root's /boot afterwards" "" "$(ls -A "$D/boot")"
