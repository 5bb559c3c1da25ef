# riso.lib.mkFlake { src = ./.; } -> a project's flake outputs: a thin wrapper over
# flake-parts with `flakeModules.default` (lib/flake-module.nix). Per system:
#   packages.default    the app's virtual environment, built by uv2nix from uv.lock
#   devShells.default   the same lock with the app installed editable, the services'
#                       binaries (lib.getBin), uv, RISO_PLAN; `pytest` and `uvicorn
#                       --reload` work on the source tree
#   apps.up             `nix run .#up`: riso up with the plan from the store
#   checks              pytest against Postgres/Redis from the store, promtool, ruff, nixfmt
#   formatter           nixfmt
#   legacyPackages.riso the evaluated modules: plan, planFile, config, python set
#
# `inputs`: the project's flake inputs (with `self`), when it has them; without them the
# nixpkgs riso follows is used.
{ risoInputs, flakeModule }:
{
  src,
  modules ? [ ],
  systems ? [
    "x86_64-linux"
    "aarch64-linux"
    "aarch64-darwin"
    "x86_64-darwin"
  ],
  inputs ? null,
}@args:
let
  projectInputs =
    if args.inputs or null != null then
      args.inputs
    else
      {
        self = {
          outPath = src;
          inputs = { };
        };
        inherit (risoInputs) nixpkgs;
      };
in
risoInputs.flake-parts.lib.mkFlake
  {
    inputs = projectInputs;
    moduleLocation = "${toString src}/flake.nix";
  }
  {
    imports = [ flakeModule ];
    inherit systems;
    riso = { inherit src modules; };
  }
