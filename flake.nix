{
  description = "libenter: step into a broken installed NixOS system from a rescue system and repair it";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      overlays.default = final: prev: { libenter = final.callPackage ./package.nix { }; };

      packages = forAllSystems (pkgs: {
        libenter = pkgs.callPackage ./package.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.libenter;
      });

      # Adds enter, enter-rebuild and enter-deploy (and colmena) to a NixOS
      # installation or rescue image:
      #
      #   imports = [ libenter.nixosModules.rescue ];
      nixosModules.rescue =
        {
          config,
          lib,
          pkgs,
          ...
        }:
        let
          cfg = config.programs.enter;
        in
        {
          options.programs.enter = {
            # On by default: importing the module is the choice.
            enable = lib.mkOption {
              type = lib.types.bool;
              default = true;
              description = "Whether to install enter, enter-rebuild and enter-deploy.";
            };
            package = lib.mkOption {
              type = lib.types.package;
              default = pkgs.callPackage ./package.nix { };
              defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
              description = "The libenter package whose programs are installed.";
            };
            colmena = lib.mkOption {
              type = lib.types.bool;
              default = true;
              description = "Whether to install colmena too, for enter-deploy.";
            };
          };

          config = lib.mkIf cfg.enable {
            environment.systemPackages = [ cfg.package ] ++ lib.optional cfg.colmena pkgs.colmena;
          };
        };
      nixosModules.default = self.nixosModules.rescue;

      # A recovery ISO: the minimal installer with enter and colmena.
      #
      #   nix build .#nixosConfigurations.rescue-iso.config.system.build.isoImage
      nixosConfigurations.rescue-iso = nixpkgs.lib.nixosSystem {
        system = "x86_64-linux";
        modules = [
          "${nixpkgs}/nixos/modules/installer/cd-dvd/installation-cd-minimal.nix"
          self.nixosModules.rescue
          { isoImage.isoBaseName = "nixos-rescue-libenter"; }
        ];
      };
    };
}
