#!/usr/bin/env bash
# install.sh: `meson install` into a staging directory puts each file where
# a distribution expects it, and a program built against the installed
# libenter.pc (examples/run-in-root.c) runs a command in a fixture root with
# the installed library; with -Dstatic=true, also against libenter.a.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

[[ -d ${BUILD_ROOT:-} && -d ${SOURCE_ROOT:-} ]] || skip "set BUILD_ROOT and SOURCE_ROOT"
need_cmds meson pkg-config cc jq nm

stage=$T/stage
run_cmd meson install -C "$BUILD_ROOT" --no-rebuild --destdir "$stage"
expect_ok "meson install --destdir works"
option() {
	meson introspect --buildoptions "$BUILD_ROOT" | jq -r --arg n "$1" '.[] | select(.name == $n) | .value'
}
prefix=$stage$(option prefix)
libdir=$prefix/$(option libdir)
datadir=$prefix/$(option datadir)
mandir=$prefix/$(option mandir)

for f in bin/enter bin/enter-rebuild bin/enter-deploy; do
	check "installed: $f, executable" test -x "$prefix/$f"
done
check "installed: libenter.so.0 -> libenter.so.0.*" test -L "$libdir/libenter.so.0"
check "installed: libenter.so (for -lenter)" test -L "$libdir/libenter.so"
check "installed: include/libenter.h" test -f "$prefix/include/libenter.h"
check "installed: libenter.pc" test -f "$libdir/pkgconfig/libenter.pc"
if [[ $(option man) != disabled ]] && command -v scdoc >/dev/null; then
	for f in man1/enter.1 man1/enter-rebuild.1 man1/enter-deploy.1 man3/libenter.3; do
		check "installed: $f" test -s "$mandir/$f"
	done
fi
for tool in enter enter-rebuild enter-deploy; do
	check "installed: bash completion for $tool" test -f "$datadir/bash-completion/completions/$tool"
	check "installed: fish completion for $tool" test -f "$datadir/fish/vendor_completions.d/$tool.fish"
done
check "installed: zsh completion" test -f "$datadir/zsh/site-functions/_enter"
exported=$(nm -D --defined-only "$libdir/libenter.so.0" | awk '$2 == "T" { print $3 }' | grep -vc '^enter_' || true)
expect_eq "the installed library exports enter_* only" 0 "$exported"

# A program of an embedder, built against the installed files only.
export PKG_CONFIG_PATH=$libdir/pkgconfig PKG_CONFIG_SYSROOT_DIR=$stage
cflags=$(pkg-config --cflags libenter) libs=$(pkg-config --libs libenter)
# A library built with sanitizers needs their runtime first in the program.
sanitize=$(option b_sanitize)
[[ $sanitize == none ]] || libs+=" -fsanitize=$sanitize"
expect_contains "pkg-config: the staged include directory" "$cflags" "-I$prefix/include"
# shellcheck disable=SC2086 # word splitting of pkg-config's output intended
run_cmd cc -Wall -Werror -o "$T/run-in-root" "$SOURCE_ROOT/examples/run-in-root.c" $cflags $libs
expect_ok "cc examples/run-in-root.c \$(pkg-config --cflags --libs libenter)"
R=$T/root
make_root "$R"
run_cmd env LD_LIBRARY_PATH="$libdir" "$T/run-in-root" "$R" /bin/busybox hostname
expect_ok "the example runs with the installed library"
expect_eq "... inside the root" fixturehost "$OUT"

if [[ $(option static) == true ]]; then
	check "installed: libenter.a" test -f "$libdir/libenter.a"
	internal=$(nm --defined-only "$libdir/libenter.a" | awk '$2 ~ /^[A-Z]$/ { print $3 }' | grep -vc '^enter_' || true)
	expect_eq "libenter.a: its internal functions are local" 0 "$internal"
	# shellcheck disable=SC2046
	run_cmd cc -Wall -Werror -o "$T/run-in-root-static" "$SOURCE_ROOT/examples/run-in-root.c" $cflags \
		"$libdir/libenter.a" $(pkg-config --static --libs libenter | sed 's/-lenter//') \
		${libs##*-lenter}
	expect_ok "the example links against libenter.a"
	run_cmd "$T/run-in-root-static" "$R" /bin/busybox hostname
	expect_eq "... and runs inside the root" fixturehost "$OUT"
	expect_not_contains "... without libenter.so" "$(ldd "$T/run-in-root-static")" libenter
fi

# --version: the project version meson knows, for each installed program.
version=$(meson introspect --projectinfo "$BUILD_ROOT" | jq -r .version)
for tool in enter enter-rebuild enter-deploy; do
	run_cmd env LD_LIBRARY_PATH="$libdir" "$prefix/bin/$tool" --version
	expect_eq "$tool --version: meson's project version" "$tool (libenter) $version" "$OUT"
done
