# riso's Nix library, exported as the flake's `lib`.
#
# Nothing here forces nixpkgs until a function is called, so `nix flake show` of riso
# needs only the inputs.
{ inputs }:
let
  inherit (inputs) nixpkgs;
  flakeModule = import ./flake-module.nix { inherit inputs; };
in
{
  # flake-parts module (also `riso.flakeModules.default`): options `riso.src`, `riso.modules`.
  inherit flakeModule;

  # riso.lib.mkFlake { src = ./.; modules ? [ ]; systems ? [ ... ]; inputs ? null; }
  mkFlake = import ./mkFlake.nix {
    risoInputs = inputs;
    inherit flakeModule;
  };

  # riso.lib.evalProject { pkgs; src ? null; modules ? [ ]; } -> lib.evalModules result
  evalProject = args: import ./evalProject.nix { inherit (nixpkgs) lib; } args;

  # riso.lib.project { pkgs; src; modules ? [ ]; } -> the per-system outputs of a project
  project = import ./project.nix { inherit inputs; };

  # riso.lib.package { pkgs; python ? pkgs.python3; application ? true; }
  package = import ./package.nix;
}
