# riso's own flake checks, for one system.
{
  self,
  nixpkgs,
  pkgs,
  system,
}:
let
  inherit (nixpkgs) lib;
  evalProject = import ../lib/evalProject.nix { inherit lib; };
  riso = self.packages.${system}.riso;

  moduleFailures = import ./module-tests.nix { inherit lib pkgs; };

  # Every subset of the features, as pyproject.toml text and the plan Nix makes of it.
  features = [
    "api"
    "cache"
    "database"
    "monitoring"
  ];
  subsets = lib.foldr (f: acc: acc ++ map (s: [ f ] ++ s) acc) [ [ ] ] features;
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
        };
        inherit nixpkgs;
        riso = self;
      };
    in
    outputs;
  starterCheck =
    name:
    let
      o = callStarter (self + "/templates/${name}");
      drv = d: builtins.unsafeDiscardStringContext d.drvPath;
    in
    pkgs.writeText "riso-starter-${name}.json" (
      builtins.unsafeDiscardStringContext (
        builtins.toJSON {
          plan = o.legacyPackages.${system}.riso.plan;
          devShell = drv o.devShells.${system}.default;
          package = drv o.packages.${system}.default;
          checks = lib.mapAttrs (_: drv) o.checks.${system};
          up = o.apps.${system}.up.program;
        }
      )
    );
  # builtins only, so the names of the checks are known without nixpkgs' lib.
  starters =
    if builtins.pathExists (self + "/templates") then
      {
        starter-api = starterCheck "api";
        starter-minimal = starterCheck "minimal";
      }
    else
      { };

  docsExpected = import ./options-doc.nix { inherit lib; };
  docsActual =
    let
      parts = lib.splitString "<!-- generated: begin -->" (builtins.readFile (self + "/docs/nix.md"));
    in
    builtins.head (lib.splitString "<!-- generated: end -->" (lib.last parts));

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

  formatting = pkgs.runCommand "riso-nixfmt" { nativeBuildInputs = [ pkgs.nixfmt-rfc-style ]; } ''
    cd ${self}
    find . -name '*.nix' -print0 | xargs -0 nixfmt --check
    touch $out
  '';

  docs = pkgs.runCommand "riso-docs-in-sync" { } (
    if lib.trim docsActual == lib.trim docsExpected then
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
