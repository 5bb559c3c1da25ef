# riso's Nix library, exported as the flake's `lib`.
#
# Nothing here forces nixpkgs until a function is called, so `nix flake show` of riso
# needs only the inputs, not nixpkgs' lib.
{ nixpkgs }:
{
  # riso.lib.mkFlake { src = ./.; modules ? [ ]; systems ? [ ... ]; }
  mkFlake = import ./mkFlake.nix { inherit nixpkgs; };

  # riso.lib.evalProject { pkgs; src ? null; modules ? [ ]; } -> lib.evalModules result
  evalProject = args: import ./evalProject.nix { inherit (nixpkgs) lib; } args;

  # riso.lib.package { pkgs; python ? pkgs.python3; application ? true; }
  package = import ./package.nix;
}
