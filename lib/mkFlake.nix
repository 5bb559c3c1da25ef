# riso.lib.mkFlake { src = ./.; } -> a project's flake outputs, per system:
#   devShells.default   Python with the project's dependencies and riso, the package
#                       manager, the services' binaries, RISO_PLAN; says `riso up`
#   apps.up             `nix run .#up`: riso up with the plan from the store
#   checks              pytest (services started by riso's runner inside the sandbox,
#                       on loopback and Unix sockets), ruff, nixfmt
#   packages.default    the app, from nixpkgs' Python set
#   formatter           nixfmt-rfc-style
#   legacyPackages.riso the evaluated modules: plan, planFile, config, options
{ nixpkgs }:
{
  src,
  modules ? [ ],
  systems ? [
    "x86_64-linux"
    "aarch64-linux"
    "aarch64-darwin"
    "x86_64-darwin"
  ],
}:
let
  inherit (nixpkgs) lib;
  evalProject = import ./evalProject.nix { inherit lib; };

  perSystem =
    system:
    let
      pkgs = nixpkgs.legacyPackages.${system};
      eval = evalProject { inherit pkgs src modules; };
      cfg = eval.config;
      inherit (cfg.riso.project) name;
      python = cfg.riso.python.package;
      risoModule = import ./package.nix {
        inherit pkgs python;
        application = false;
      };

      planFile = pkgs.writeText "${name}-riso-plan.json" cfg.riso.planJSON;
      enabled = builtins.filter (s: cfg.services.${s}.enable) cfg.riso.serviceOrder;
      servicePackages = map (s: cfg.services.${s}.package) enabled;
      tools = lib.optional (cfg.riso.python.packageManagerPackage != null) cfg.riso.python.packageManagerPackage ++ cfg.riso.python.tools;

      app = python.pkgs.buildPythonApplication {
        pname = cfg.riso.pyproject.project.name or name;
        version = cfg.riso.pyproject.project.version or "0";
        inherit src;
        pyproject = true;
        build-system = cfg.riso.python.buildSystem python.pkgs;
        dependencies = cfg.riso.python.dependencies python.pkgs;
        doCheck = false;
      };

      # The interpreter of the dev shell and the checks: the app's dependencies, the
      # test dependencies and riso's pytest plugin, all from nixpkgs.
      devPython = python.withPackages (
        ps: cfg.riso.python.dependencies ps ++ cfg.riso.python.testDependencies ps ++ [ risoModule ]
      );
      testPython = python.withPackages (
        ps: [ app ] ++ cfg.riso.python.testDependencies ps ++ [ risoModule ]
      );

      up = pkgs.writeShellApplication {
        name = "${name}-up";
        runtimeInputs = [ devPython ] ++ servicePackages;
        text = ''
          export RISO_PLAN=${planFile}
          exec riso up "$@"
        '';
      };
    in
    {
      devShell = pkgs.mkShell {
        name = "${name}-dev";
        packages = [ devPython ] ++ tools ++ servicePackages;
        RISO_PLAN = planFile;
        shellHook = ''
          echo "riso: ${name}: services ${
            if enabled == [ ] then "(none)" else lib.concatStringsSep ", " enabled
          }; plan in \$RISO_PLAN"
          echo "riso: run 'riso up' to start them, 'riso env' for their URLs, 'riso down' to stop"
        '';
      };

      app.up = {
        type = "app";
        program = lib.getExe up;
      };

      checks = {
        pytest = pkgs.runCommand "${name}-pytest" {
          nativeBuildInputs = [ testPython ] ++ servicePackages;
          RISO_PLAN = planFile;
        } ''
          cp -r ${src} source
          chmod -R u+w source
          cd source
          export HOME="$TMPDIR"
          pytest -p no:cacheprovider
          touch $out
        '';

        ruff = pkgs.runCommand "${name}-ruff" { nativeBuildInputs = cfg.riso.python.tools; } ''
          cd ${src}
          ruff check --no-cache .
          ruff format --check --no-cache .
          touch $out
        '';

        format = pkgs.runCommand "${name}-nixfmt" { nativeBuildInputs = [ pkgs.nixfmt-rfc-style ]; } ''
          cd ${src}
          find . -name '*.nix' -print0 | xargs -0 -r nixfmt --check
          touch $out
        '';
      };

      package = app;

      riso = {
        inherit (cfg.riso) plan;
        inherit planFile eval;
        inherit (cfg) riso services;
      };
    };

  outputs = lib.genAttrs systems perSystem;
  each = f: lib.mapAttrs (_: f) outputs;
in
{
  devShells = each (o: {
    default = o.devShell;
  });
  apps = each (o: o.app);
  checks = each (o: o.checks);
  packages = each (o: {
    default = o.package;
  });
  formatter = lib.genAttrs systems (system: nixpkgs.legacyPackages.${system}.nixfmt-rfc-style);
  legacyPackages = each (o: {
    inherit (o) riso;
  });
}
