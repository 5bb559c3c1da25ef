# riso's own flake checks, for one system.
{
  self,
  inputs,
  pkgs,
  system,
}:
let
  inherit (pkgs) lib;
  evalProject = import ../lib/evalProject.nix { inherit lib; };
  riso = self.packages.${system}.riso;

  moduleFailures = import ./module-tests.nix { inherit lib pkgs; };

  # Every valid combination (modules/features.json), as pyproject.toml text and the plan
  # Nix makes of it.
  subsets = (lib.importJSON ../modules/features.json).combinations;
  pyprojectFor = fs: ''
    [project]
    name = "demo"

    [tool.riso]
    features = ${builtins.toJSON fs}

    [tool.riso.services.postgres]
    version = "16"
    extensions = ["pg_trgm"]
    settings = { max_connections = 50 }

    [tool.riso.services.prometheus]
    scrape_interval = "10s"

    [tool.riso.processes.worker]
    command = "python -m demo.worker --name 'a b'"
    restart = "always"
    readiness = { type = "command", command = "python -m demo.worker --ping" }
  '';
  parityCases = map (
    fs:
    let
      text = pyprojectFor fs;
    in
    {
      label = if fs == [ ] then "(none)" else lib.concatStringsSep "," fs;
      pyproject = text;
      plan =
        (evalProject {
          inherit pkgs;
          modules = [ { riso.pyproject = builtins.fromTOML text; } ];
        }).config.riso.plan;
    }
  ) subsets;

  # A starter's flake called with riso = self (the callFlake pattern of uv2nix's templates).
  callStarter =
    path:
    let
      flake = import (path + "/flake.nix");
      outputs = flake.outputs {
        self = outputs // {
          outPath = path;
          inputs = { };
        };
        inherit (inputs) nixpkgs;
        riso = self;
      };
    in
    outputs;
  # Built for real: the check depends on the starter's package, dev shell and checks.
  starterCheck =
    name:
    let
      o = callStarter (self + "/templates/${name}");
    in
    pkgs.runCommand "riso-starter-${name}" {
      parts = [
        o.packages.${system}.default
        o.devShells.${system}.default
        o.apps.${system}.up.program
      ]
      ++ builtins.attrValues o.checks.${system};
    } "touch $out";
  # builtins only, so the names of the checks are known without nixpkgs' lib.
  starters =
    if builtins.pathExists (self + "/templates") then
      {
        starter-api = starterCheck "api";
        starter-minimal = starterCheck "minimal";
      }
    else
      { };

  combinations = import ./combinations.nix {
    inherit
      self
      inputs
      pkgs
      system
      ;
  };

  docsExpected = import ./options-doc.nix { inherit lib; };
  docsActual =
    let
      parts = lib.splitString "<!-- generated: begin -->" (
        builtins.readFile (self + "/docs/nix.md")
      );
    in
    builtins.head (lib.splitString "<!-- generated: end -->" (lib.last parts));

  # Option names, descriptions and the attribute table: what does not depend on the
  # version of nixpkgs' lib. (Type names and rendered defaults do; tests/nix/test_docs.py
  # compares the whole text with the lib the docs are generated with.)
  stableLines =
    text:
    builtins.filter (
      l:
      !(lib.hasPrefix "- type:" l || lib.hasPrefix "- default:" l || lib.hasPrefix "- example:" l)
      && !(lib.hasPrefix "  " l)
    ) (lib.splitString "\n" (lib.trim text));
  attributes = import ./nixpkgs-attributes.nix;
  sourceMismatches = builtins.filter (
    a:
    let
      position = (lib.attrByPath (lib.splitString "." a.attr) { } pkgs).meta.position or "";
    in
    !(lib.any (f: lib.hasInfix f position) a.defines)
  ) attributes;
in
starters
// combinations
// {
  inherit riso;

  module-tests = pkgs.runCommand "riso-module-tests" { } (
    if moduleFailures == [ ] then
      "touch $out"
    else
      ''
        echo ${lib.escapeShellArg (builtins.toJSON moduleFailures)} >&2
        exit 1
      ''
  );

  plan-parity =
    pkgs.runCommand "riso-plan-parity"
      {
        nativeBuildInputs = [
          riso
          pkgs.python3
        ];
        cases = pkgs.writeText "riso-parity-cases.json" (builtins.toJSON parityCases);
      }
      ''
        export HOME="$TMPDIR"
        python3 ${./compare_plans.py} "$cases"
        touch $out
      '';

  formatting = pkgs.runCommand "riso-nixfmt" { nativeBuildInputs = [ pkgs.nixfmt ]; } ''
    cd ${self}
    find . -name '*.nix' -print0 | xargs -0 nixfmt --check
    touch $out
  '';

  docs = pkgs.runCommand "riso-docs-in-sync" { } (
    if stableLines docsActual == stableLines docsExpected then
      "touch $out"
    else
      ''
        echo "docs/nix.md is out of date: run python tests/nix/docgen.py" >&2
        exit 1
      ''
  );

  nixpkgs-sources = pkgs.runCommand "riso-nixpkgs-sources" { } (
    if sourceMismatches == [ ] then
      "touch $out"
    else
      ''
        echo "docs/nix.md names the wrong nixpkgs file for: ${
          lib.concatMapStringsSep ", " (a: a.attr) sourceMismatches
        }" >&2
        exit 1
      ''
  );
}
