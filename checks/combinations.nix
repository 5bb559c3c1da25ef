# One check per valid feature combination (modules/features.json, written from
# src/riso/features.py): the blueprint rendered with those features inside the build, its
# tests run against Postgres/Redis from the store, Prometheus' configuration checked.
# Attribute names come from builtins only, so `nix flake show` lists them without
# evaluating any of them, and `nix build .#checks.<system>."combo-api+database"` builds one.
{
  self,
  inputs,
  pkgs,
  system,
}:
let
  inherit (pkgs) lib;
  evalProject = import ../lib/evalProject.nix { inherit lib; };
  python-env = import ../lib/python-env.nix { inherit inputs; };
  services-check = import ../lib/services-check.nix;
  data = builtins.fromJSON (builtins.readFile ../modules/features.json);
  riso = self.packages.${system}.riso;

  # the render's dependencies come from one lock covering every feature
  envs = python-env {
    inherit pkgs;
    name = "riso-combinations";
    src = ./combinations;
    python = pkgs.python311;
    packageManager = "uv";
    pyproject = builtins.fromTOML (builtins.readFile ./combinations/pyproject.toml);
  };
  renderPython = pkgs.python3.withPackages (_: [
    (import ../lib/package.nix {
      inherit pkgs;
      application = false;
    })
  ]);

  check =
    combo:
    let
      cfg =
        (evalProject {
          inherit pkgs;
          modules = [
            {
              riso.pyproject = {
                project.name = "combo";
                tool.riso.features = combo;
              };
            }
          ];
        }).config;
      testing = services-check {
        inherit pkgs riso;
        name = "combo";
        inherit (cfg.riso) plan;
        packages = cfg.services;
      };
    in
    testing.check {
      name = "riso-${nameOf combo}";
      env = envs.test;
      source = null;
      prepare = ''
        ${renderPython.interpreter or "${renderPython}/bin/python3"} ${./render_combination.py} \
          ${self}/src/riso/blueprint project ${lib.escapeShellArgs combo}
      '';
      before = ''
        export PYTHONPATH="$PWD/src"
      '';
    };
  nameOf = combo: "combo-" + (if combo == [ ] then "none" else builtins.concatStringsSep "+" combo);
in
builtins.listToAttrs (
  map (combo: {
    name = nameOf combo;
    value = check combo;
  }) data.combinations
)
