{
  description = "riso: Nix flake and devcontainer environment framework for Python service projects";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
    flake-parts = {
      url = "github:hercules-ci/flake-parts";
      inputs.nixpkgs-lib.follows = "nixpkgs";
    };
    pyproject-nix = {
      url = "github:pyproject-nix/pyproject.nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    uv2nix = {
      url = "github:pyproject-nix/uv2nix";
      inputs.pyproject-nix.follows = "pyproject-nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    pyproject-build-systems = {
      url = "github:pyproject-nix/build-system-pkgs";
      inputs.pyproject-nix.follows = "pyproject-nix";
      inputs.uv2nix.follows = "uv2nix";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    { self, nixpkgs, ... }@inputs:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "aarch64-darwin"
        "x86_64-darwin"
      ];
      # builtins only: `nix flake show` and `nix eval .#templates` need no nixpkgs.
      forAllSystems =
        f:
        builtins.listToAttrs (
          map (system: {
            name = system;
            value = f system nixpkgs.legacyPackages.${system};
          }) systems
        );

      welcome = what: commands: ''
        # A riso project: ${what}

        Next:

        ${commands}

        `nix flake check` runs ruff, nixfmt and the tests against Postgres and Redis started
        from the Nix store inside the sandbox. Features live in `[tool.riso]` of
        pyproject.toml; `riso add cache` adds one.
      '';
    in
    {
      templates = {
        api = {
          path = ./templates/api;
          description = "riso starter: FastAPI with Postgres, Redis, background jobs, Prometheus and Grafana";
          welcomeText = welcome "FastAPI with Postgres, Redis, background jobs, Prometheus and Grafana" ''
            1. `nix develop`: the locked environment with the app installed editable, and the services' binaries
            2. `riso up`: start Postgres, Redis, Prometheus and Grafana, then the app and the job worker (`riso env` prints their URLs)
            3. `pytest`: run the tests against them
          '';
        };
        minimal = {
          path = ./templates/minimal;
          description = "riso starter: a FastAPI app without services";
          welcomeText = welcome "a FastAPI app without services" ''
            1. `nix develop`: the locked environment with the app installed editable
            2. `pytest`: run the tests
            3. `riso add database`: add a feature, then `riso up` starts its service
          '';
        };
        default = self.templates.api;
      };

      lib = import ./lib { inherit inputs; };

      # flake-parts: `imports = [ riso.flakeModules.default ]; riso.src = ./.;`
      flakeModules.default = self.lib.flakeModule;

      # riso's modules, for lib.evalModules or riso.lib.mkFlake { modules = [ ... ]; }.
      modules = {
        default = ./modules;
        project = ./modules/project.nix;
        python = ./modules/python.nix;
        postgres = ./modules/services/postgres.nix;
        redis = ./modules/services/redis.nix;
        prometheus = ./modules/services/prometheus.nix;
        grafana = ./modules/services/grafana.nix;
        processes = ./modules/processes.nix;
        devcontainer = ./modules/devcontainer.nix;
        plan = ./modules/plan.nix;
      };

      packages = forAllSystems (
        system: pkgs: {
          riso = import ./lib/package.nix { inherit pkgs; };
          default = self.packages.${system}.riso;
        }
      );

      # For working on riso: its dependencies, test tools, and the servers the tests start.
      devShells = forAllSystems (
        _: pkgs: {
          default = pkgs.mkShell {
            name = "riso-dev";
            packages = [
              # riso as a module brings its dependencies; src/ on PYTHONPATH shadows it.
              (pkgs.python3.withPackages (
                ps:
                [
                  (import ./lib/package.nix {
                    inherit pkgs;
                    application = false;
                  })
                ]
                ++ (with ps; [
                  pytest
                  pytest-asyncio
                  jsonschema
                  json5
                  dockerfile-parse
                  mypy
                  types-pyyaml
                  asyncpg
                  redis
                  httpx
                ])
              ))
              pkgs.poetry
              pkgs.uv
              pkgs.ruff
              pkgs.nixfmt
              (pkgs.lib.getBin pkgs.postgresql)
              (pkgs.lib.getBin pkgs.redis)
              (pkgs.lib.getBin pkgs.prometheus)
            ];
            shellHook = ''
              export PYTHONPATH="$PWD/src''${PYTHONPATH:+:$PYTHONPATH}"
              echo "riso dev shell: pytest, ruff, mypy, nixfmt; src/ is on PYTHONPATH"
            '';
          };
        }
      );

      checks = forAllSystems (
        system: pkgs:
        import ./checks {
          inherit
            self
            inputs
            pkgs
            system
            ;
        }
      );

      formatter = forAllSystems (_: pkgs: pkgs.nixfmt);
    };
}
