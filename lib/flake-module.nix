# flakeModules.default: riso for a flake-parts flake.
#
#   outputs = inputs@{ flake-parts, riso, ... }:
#     flake-parts.lib.mkFlake { inherit inputs; } {
#       imports = [ riso.flakeModules.default ];
#       systems = [ "x86_64-linux" ];
#       riso.src = ./.;
#     };
#
# `inputs` are riso's own flake inputs (uv2nix, pyproject.nix, pyproject-build-systems).
{ inputs }:
let
  risoInputs = inputs;
in
{
  config,
  lib,
  inputs,
  ...
}@args:
let
  inherit (lib) mkOption types;
  cfg = config.riso;
  project = import ./project.nix { inputs = risoInputs; };
  # The project's nixpkgs (riso's follows it in the blueprint), else riso's.
  nixpkgs = args.inputs.nixpkgs or risoInputs.nixpkgs;
in
{
  options.riso = {
    src = mkOption {
      type = types.path;
      example = lib.literalExpression "./.";
      description = "The project folder: pyproject.toml with [tool.riso], uv.lock, src/, tests/.";
    };
    modules = mkOption {
      type = types.listOf types.deferredModule;
      default = [ ];
      example = lib.literalExpression "[ { services.postgres.port = 5432; } ]";
      description = "riso modules of the project (services.*, riso.*), beside [tool.riso].";
    };
  };

  config.perSystem =
    { pkgs, system, ... }:
    let
      p = project {
        inherit pkgs;
        inherit (cfg) src modules;
      };
    in
    {
      _module.args.pkgs = lib.mkDefault nixpkgs.legacyPackages.${system};
      packages.default = p.package;
      devShells.default = p.devShell;
      apps.up = p.app;
      inherit (p) checks;
      formatter = pkgs.nixfmt;
      legacyPackages.riso = p.riso;
    };
}
