#!/bin/bash
# nix.sh SRCDIR: package.nix and flake.nix parse (nix-instantiate --parse from
# Debian's nix-bin), and the flake's outputs, called with a stand-in for
# nixpkgs (no nixpkgs here), have the package, the overlay, the NixOS module
# nixosModules.rescue and the rescue ISO; the module, called with a
# stand-in lib, declares its options and installs the package and colmena.
# package.nix, called with stand-ins, has meson's version, and the source
# set it selects builds with its meson flags (what a Nix build would run,
# without the sandbox).
set -euo pipefail
cd "$1"
if ! command -v nix-instantiate >/dev/null; then
	echo "nix-instantiate not installed (Debian: nix-bin)" >&2
	exit 77
fi
for f in package.nix flake.nix; do
	nix-instantiate --parse "$f" >/dev/null
	echo "$f: parses"
done

got=$(nix-instantiate --eval --strict --json --readonly-mode -E '
let
  flake = import ./flake.nix;
  stub = {
    lib = {
      genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
      nixosSystem = args: { inherit (args) system; modules = builtins.length args.modules; };
      types = { bool = "bool"; package = "package"; };
      mkOption = o: o.type;
      mkIf = cond: value: if cond then value else { };
      mkDefault = v: v;
      optional = cond: v: if cond then [ v ] else [ ];
      literalExpression = s: s;
    };
    pkg = system: { callPackage = path: args: "libenter-${system}"; stdenv.hostPlatform.system = system; colmena = "colmena"; };
  };
  nixpkgs = {
    inherit (stub) lib;
    outPath = "/nixpkgs";
    legacyPackages = stub.lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] stub.pkg;
  };
  out = flake.outputs { self = out; inherit nixpkgs; };
  module = out.nixosModules.rescue {
    config.programs.enter = { enable = true; colmena = true; package = "libenter"; };
    inherit (stub) lib;
    pkgs = stub.pkg "x86_64-linux";
  };
in {
  outputs = builtins.attrNames out;
  packages = builtins.attrNames out.packages.x86_64-linux;
  package = out.packages.aarch64-linux.default;
  overlay = (out.overlays.default (stub.pkg "x86_64-linux") { }).libenter;
  iso = out.nixosConfigurations.rescue-iso;
  options = builtins.attrNames module.options.programs.enter;
  installs = module.config.environment.systemPackages;
}')
echo "flake outputs: $got"
want='{"installs":["libenter","colmena"],"iso":{"modules":3,"system":"x86_64-linux"},"options":["colmena","enable","package"],"outputs":["nixosConfigurations","nixosModules","overlays","packages"],"overlay":"libenter-x86_64-linux","package":"libenter-aarch64-linux","packages":["default","libenter"]}'
if [[ $got != "$want" ]]; then
	echo "expected: $want" >&2
	exit 1
fi

# package.nix: its version, its source set and its meson flags.
pkg=$(nix-instantiate --eval --strict --json --readonly-mode -E '
let
  stub = {
    fileset = { unions = paths: paths; toSource = { root, fileset }: map toString fileset; };
    mesonBool = k: v: "-D${k}=${if v then "true" else "false"}";
    mesonEnable = k: v: "-D${k}=${if v then "enabled" else "disabled"}";
    licenses.lgpl21Plus = "LGPL-2.1+";
    platforms.linux = [ ];
  };
  drv = import ./package.nix {
    lib = stub;
    stdenv.mkDerivation = f: f { };
    meson = "meson"; ninja = "ninja"; pkg-config = "pkg-config"; scdoc = "scdoc";
    util-linux = "util-linux"; libcap = "libcap"; libseccomp = "libseccomp";
  };
in { inherit (drv) pname version src mesonFlags; }')
version=$(meson introspect --projectinfo meson.build 2>/dev/null | jq -r .version)
if [[ $(jq -r .version <<<"$pkg") != "$version" ]]; then
	echo "package.nix: version $(jq -r .version <<<"$pkg"), meson.build: $version" >&2
	exit 1
fi
echo "package.nix: $(jq -r '.pname + " " + .version' <<<"$pkg"), as meson.build"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
while read -r path; do
	cp -r "$path" "$tmp/src/"
done < <(jq -r '.src[]' <<<"$pkg")
mapfile -t flags < <(jq -r '.mesonFlags[]' <<<"$pkg")
if ! { meson setup "$tmp/build" "$tmp/src" "${flags[@]}" && ninja -C "$tmp/build"; } >"$tmp/log" 2>&1; then
	tail -n 20 "$tmp/log" >&2
	echo "package.nix: its source set does not build with ${flags[*]}" >&2
	exit 1
fi
echo "package.nix: its source set ($(jq -r '.src | length' <<<"$pkg") paths) builds with ${flags[*]}"
