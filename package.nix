# libenter, enter, enter-rebuild and enter-deploy, for nixpkgs' callPackage:
#
#   libenter = pkgs.callPackage ./package.nix { };
#
# The tests need root, namespaces and loop devices, which a Nix build
# sandbox does not give: they run in this repository's CI (.ci/run).
{
  lib,
  stdenv,
  meson,
  ninja,
  pkg-config,
  scdoc,
  util-linux,
  libcap,
  libseccomp,
}:

stdenv.mkDerivation (finalAttrs: {
  pname = "libenter";
  # meson.build's, so that the two cannot differ
  version = builtins.head (
    builtins.match ".*project\\('libenter', 'c',[[:space:]]+version : '([^']+)'.*" (
      builtins.readFile ./meson.build
    )
  );

  src = lib.fileset.toSource {
    root = ./.;
    fileset = lib.fileset.unions [
      ./meson.build
      ./meson_options.txt
      ./include
      ./libenter
      ./tools
      ./man
      ./completions
      ./examples
      ./bench
    ];
  };

  outputs = [
    "out"
    "dev"
    "man"
  ];

  nativeBuildInputs = [
    meson
    ninja
    pkg-config
    scdoc
  ];
  # libmount and libblkid (util-linux); libcap and libseccomp are opened
  # with dlopen() for --hardened by the paths pkg-config gives, which keeps
  # them in the closure.
  buildInputs = [
    util-linux
    libcap
    libseccomp
  ];

  mesonFlags = [
    (lib.mesonBool "tests" false)
    (lib.mesonEnable "man" true)
    (lib.mesonEnable "hardened" true)
  ];

  meta = {
    description = "Step into a broken installed NixOS system from a rescue system and repair it";
    longDescription = ''
      enter replaces nixos-enter and the mount commands typed around it: /boot
      mounted from the target's own fstab, the target's hostname, DNS, no
      variables of the rescue system, Ctrl-C, nothing left mounted or running.
      enter-rebuild and enter-deploy run nixos-rebuild and colmena apply-local
      inside. libenter is the library under them, for other rescue tools.
    '';
    license = lib.licenses.lgpl21Plus;
    platforms = lib.platforms.linux;
    mainProgram = "enter";
  };
})
