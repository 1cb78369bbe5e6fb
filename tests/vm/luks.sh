#!/usr/bin/env bash
# luks.sh ENTER MKROOT (inside the VM, /dev/vda blank): enter --luks opens a
# LUKS2 container with a key file and with a passphrase typed on stdin's
# key file, mounts the ext4 inside as the root, and closes it after.
# shellcheck source=tests/vm/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

# Fast key derivation: TCG is slow, and the strength of a test key is moot.
kdf=(--pbkdf pbkdf2 --pbkdf-force-iterations 1000)
printf 'correct horse' >"$T/key"
cryptsetup luksFormat -q --type luks2 "${kdf[@]}" /dev/vda "$T/key"
cryptsetup open --key-file "$T/key" /dev/vda prep
bash "$MKROOT" "$T/src" >/dev/null
echo lukshost >"$T/src/etc/hostname"
mkfs.ext4 -q -d "$T/src" /dev/mapper/prep
cryptsetup close prep
before=$(vm_state)

run_cmd "$ENTER" --luks /dev/vda:root --key-file "$T/key" --root-device /dev/mapper/root /mnt \
	-- cat /etc/hostname
expect_ok "a key file: entered"
expect_eq "a key file: the root inside the container" lukshost "$OUT"
expect_eq "a key file: closed after, nothing left" "$before" "$(vm_state)"

run_cmd "$ENTER" --luks /dev/vda:root --key-file /dev/null --root-device /dev/mapper/root /mnt \
	-- true
expect_eq "a wrong key file: 125" 125 "$STATUS"
expect_eq "a wrong key file: one line" 1 "$(wc -l <<<"$ERR")"
expect_eq "a wrong key file: nothing left open" "$before" "$(vm_state)"

run_cmd "$ENTER" --luks /dev/vda:root --root-device /dev/mapper/root /mnt -- true
expect_eq "no key, no terminal: 125" 125 "$STATUS"
[[ $ERR == *"no key for root"* ]] && pass "no key, no terminal: says which" ||
	fail "no key, no terminal: says which" "$ERR"

cryptsetup open --key-file "$T/key" /dev/vda mine
run_cmd "$ENTER" --luks /dev/vda:mine --root-device /dev/mapper/mine /mnt -- cat /etc/hostname
expect_ok "open already: used without a key"
[[ -e /dev/mapper/mine ]] && pass "open already: left open" || fail "open already: left open"
cryptsetup close mine
finish
