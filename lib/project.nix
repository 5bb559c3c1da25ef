# One project for one system: the modules evaluated, Python built from uv.lock by uv2nix,
# and the outputs lib.mkFlake and flakeModules.default expose.
#
#   riso.lib.project { pkgs; src = ./.; modules = [ ]; }
#   -> { package; devShell; app; checks; riso; }
{ inputs }:
{
  pkgs,
  src,
  modules ? [ ],
}:
let
  inherit (pkgs) lib;
  evalProject = import ./evalProject.nix { inherit lib; };
  python-env = import ./python-env.nix { inherit inputs; };
  services-check = import ./services-check.nix;

  eval = evalProject { inherit pkgs src modules; };
  cfg = eval.config;
  inherit (cfg.riso.project) name;

  envs = python-env {
    inherit pkgs name src;
    python = cfg.riso.python.package;
    packageManager = cfg.riso.python.packageManager;
    inherit (cfg.riso) pyproject;
  };

  planFile = pkgs.writeText "${name}-riso-plan.json" cfg.riso.planJSON;
  enabled = builtins.filter (s: cfg.services.${s}.enable) cfg.riso.serviceOrder;
  # bin/ outputs only: Postgres' `dev` output (headers, LLVM, Perl) stays out of the shell.
  serviceBins = map (s: lib.getBin cfg.services.${s}.package) enabled;
  riso = inputs.self.packages.${pkgs.stdenv.hostPlatform.system}.riso or null;
  risoBin = lib.optional (riso != null) riso;
  inherit (cfg.riso.python) packageManagerPackage;
  tools =
    lib.optional (packageManagerPackage != null) packageManagerPackage ++ cfg.riso.python.tools;

  testing = services-check {
    inherit pkgs;
    inherit (cfg.riso) plan;
    inherit name;
    riso = if riso == null then throw "riso: checks.pytest needs riso's package" else riso;
    packages = cfg.services;
  };

  up = pkgs.writeShellApplication {
    name = "${name}-up";
    runtimeInputs = risoBin ++ serviceBins;
    text = ''
      export RISO_PLAN=${planFile}
      exec riso up "$@"
    '';
  };
in
{
  package = envs.app;

  devShell = pkgs.mkShell {
    name = "${name}-dev";
    packages = [ envs.dev ] ++ tools ++ risoBin ++ serviceBins;
    env = {
      RISO_PLAN = "${planFile}";
      # uv run / uv sync must not replace the environment Nix built from the lock
      UV_NO_SYNC = "1";
      UV_PYTHON = envs.pythonSet.python.interpreter;
      UV_PYTHON_DOWNLOADS = "never";
    };
    shellHook = ''
      unset PYTHONPATH
      # the editable install points at $REPO_ROOT/src
      export REPO_ROOT="$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
      echo "riso: ${name}: services ${
        if enabled == [ ] then "(none)" else lib.concatStringsSep ", " enabled
      }; plan in \$RISO_PLAN"
      echo "riso: 'riso up' starts them, 'riso env' prints their URLs, 'pytest' runs the tests"
    '';
  };

  app = {
    type = "app";
    program = lib.getExe up;
  };

  checks = {
    pytest = testing.check {
      name = "${name}-pytest";
      env = envs.test;
      source = src;
    };

    ruff = pkgs.runCommand "${name}-ruff" { nativeBuildInputs = cfg.riso.python.tools; } ''
      cd ${src}
      ruff check --no-cache .
      ruff format --check --no-cache .
      touch $out
    '';

    format = pkgs.runCommand "${name}-nixfmt" { nativeBuildInputs = [ pkgs.nixfmt ]; } ''
      cd ${src}
      find . -name '*.nix' -print0 | xargs -0 -r nixfmt --check
      touch $out
    '';
  };

  riso = {
    inherit (cfg.riso) plan;
    inherit planFile eval;
    inherit (cfg) riso services;
    inherit (envs) pythonSet editableSet workspace;
    testEnv = envs.test;
    devEnv = envs.dev;
  };
}
