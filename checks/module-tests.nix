# Module evaluation tests (lib.runTests): the list of failures, [ ] when all pass.
# `checks.<system>.module-tests` turns a non-empty list into a failed build; the pytest
# suite evaluates this file directly with a stand-in `pkgs`.
{ lib, pkgs }:
let
  evalProject = import ../lib/evalProject.nix { inherit lib; };

  manifest = features: extra: {
    project.name = "demo";
    tool.riso = {
      inherit features;
    } // extra;
  };
  evalWith =
    pyproject: modules:
    (evalProject {
      inherit pkgs;
      modules = [ { riso.pyproject = pyproject; } ] ++ modules;
    }).config;
  planOf = pyproject: modules: (evalWith pyproject modules).riso.plan;
  names = plan: map (s: s.name) plan.services;
  service =
    plan: name: builtins.head (builtins.filter (s: s.name == name) plan.services);
  fails = value: !(builtins.tryEval (builtins.deepSeq value value)).success;
  allFeatures = [
    "api"
    "cache"
    "database"
    "monitoring"
  ];
in
lib.runTests {
  testNoFeaturesNoServices = {
    expr = names (planOf (manifest [ ] { }) [ ]);
    expected = [ ];
  };

  testFeaturesImplyServicesInStartOrder = {
    expr = names (planOf (manifest allFeatures { }) [ ]);
    expected = [
      "postgres"
      "redis"
      "prometheus"
      "grafana"
    ];
  };

  testFeaturesSortedAndUnique = {
    expr =
      (planOf (manifest [
        "monitoring"
        "api"
        "api"
      ] { }) [ ]).project.features;
    expected = [
      "api"
      "monitoring"
    ];
  };

  testManifestDisablesImpliedService = {
    expr = names (planOf (manifest [ "cache" ] { services.redis.enable = false; }) [ ]);
    expected = [ ];
  };

  testUserModuleEnablesService = {
    expr = names (planOf (manifest [ ] { }) [ { services.redis.enable = true; } ]);
    expected = [ "redis" ];
  };

  testUserModuleBeatsManifest = {
    expr =
      (service (planOf (manifest [ "database" ] { services.postgres.port = 5432; }) [
        { services.postgres.port = 6000; }
      ]) "postgres").port;
    expected = 6000;
  };

  testManifestBeatsDefault = {
    expr = (service (planOf (manifest [ "cache" ] { services.redis.port = 6380; }) [ ]) "redis").port;
    expected = 6380;
  };

  testSettingsMergePerKey = {
    expr =
      (service (planOf
        (manifest [ "database" ] {
          services.postgres.settings = {
            max_connections = 50;
            fsync = false;
          };
        })
        [ { services.postgres.settings.max_connections = 80; } ]
      ) "postgres").settings;
    expected = {
      max_connections = 80;
      fsync = false;
    };
  };

  testPostgresVersionPicksAttribute = {
    expr = (service (planOf (manifest [ "database" ] { services.postgres.version = "16"; }) [ ]) "postgres").package;
    expected = "postgresql_16";
  };

  testPostgresHooksPerDatabase = {
    expr =
      (service (planOf
        (manifest [ "database" ] {
          services.postgres = {
            initial_databases = [
              { name = "app"; }
              { name = "audit"; }
            ];
            extensions = [ "pg_trgm" ];
          };
        })
        [ ]
      ) "postgres").post_start;
    expected = [
      {
        type = "create_database";
        name = "app";
      }
      {
        type = "create_database";
        name = "audit";
      }
      {
        type = "sql";
        database = "app";
        sql = ''CREATE EXTENSION IF NOT EXISTS "pg_trgm"'';
      }
      {
        type = "sql";
        database = "audit";
        sql = ''CREATE EXTENSION IF NOT EXISTS "pg_trgm"'';
      }
    ];
  };

  testEmptyDatabasesMeansApp = {
    expr =
      (service (planOf (manifest [ "database" ] { services.postgres.initial_databases = [ ]; }) [ ]) "postgres")
      .env.DATABASE_URL;
    expected = "postgresql://postgres@{host}:{port}/app";
  };

  testPostgresFunctionExtensionsUseWithPackages = {
    expr =
      (evalWith (manifest [ "database" ] { }) [
        { services.postgres.extensions = ps: [ ps.postgis ]; }
      ]).services.postgres.package.name;
    expected = "postgresql-and-plugins-17.7";
  };

  testPostgresNamedExtensionFromTheSetIsAdded = {
    expr =
      (evalWith (manifest [ "database" ] {
        services.postgres.extensions = [
          "pgvector"
          "pg_trgm"
        ];
      }) [ ]).services.postgres.package.name;
    expected = "postgresql-and-plugins-17.7";
  };

  testInitialScriptRunsBeforeAndAfterTheDatabases = {
    expr = map (h: h.database or h.name) (
      service (planOf (manifest [ "database" ] {
        services.postgres.initial_script = {
          before = "SELECT 1";
          after = "SELECT 2";
        };
      }) [ ]) "postgres"
    ).post_start;
    expected = [
      "postgres"
      "app"
      "postgres"
    ];
  };

  testGrafanaSettingsReachTheIni = {
    expr = lib.hasInfix "root_url=http://x/\n" (
      builtins.head (
        service (planOf (manifest [ "monitoring" ] { services.grafana.settings.server.root_url = "http://x/"; }) [
        ]) "grafana"
      ).files
    ).content;
    expected = true;
  };

  testGrafanaDependsOnlyOnEnabledServices = {
    expr =
      (service (planOf (manifest [ ] { }) [ { services.grafana.enable = true; } ]) "grafana").depends_on;
    expected = [ ];
  };

  testPrometheusScrapesAppOnlyWithApi = {
    expr = map (f: (service (planOf (manifest f { }) [ ]) "prometheus").files) [
      [ "monitoring" ]
      [
        "api"
        "monitoring"
      ]
    ];
    expected =
      let
        file = content: [
          {
            path = "{data_dir}/prometheus.yml";
            inherit content;
          }
        ];
        global = ''
          global:
            scrape_interval: 5s
            evaluation_interval: 5s
        '';
        scrapeSelf = ''
          scrape_configs:
            - job_name: prometheus
              static_configs:
                - targets: ['{host}:{port}']
        '';
      in
      [
        (file (global + scrapeSelf))
        # with api: the app's alert rules and its scrape target (the app process's port)
        (file (
          global
          + ''
            rule_files:
              - '{root}/prometheus/*.rules.yml'
          ''
          + scrapeSelf
          + ''
            ${"  "}- job_name: demo
                metrics_path: /metrics
                static_configs:
                  - targets: ['{host}:{port:app}']
          ''
        ))
      ];
  };

  testProjectNameFallsBackToApp = {
    expr = (planOf { tool.riso.features = [ ]; } [ ]).project.name;
    expected = "app";
  };

  testToolNameBeatsProjectName = {
    expr = (planOf (manifest [ ] { name = "svc"; }) [ ]).project.name;
    expected = "svc";
  };

  testWrongPortTypeFails = {
    expr = fails (planOf (manifest [ "database" ] { }) [ { services.postgres.port = "abc"; } ]);
    expected = true;
  };

  testUnknownFeatureFails = {
    expr = fails (planOf (manifest [ "queue" ] { }) [ ]);
    expected = true;
  };

  testUnknownManifestKeyFails = {
    expr = fails (planOf (manifest [ "database" ] { services.postgres.size = 3; }) [ ]);
    expected = true;
  };

  testPythonVersionFromManifest = {
    expr = (evalWith (manifest [ ] { python = "3.13"; }) [ ]).riso.python.package.name;
    expected = pkgs.python313.name;
  };

  testApiFeatureBringsTheApp = {
    expr = map (p: {
      inherit (p) name port depends_on;
      program = builtins.head p.command;
    }) (planOf (manifest allFeatures { }) [ ]).processes;
    expected = [
      {
        name = "app";
        port = 8000;
        depends_on = [
          "postgres"
          "redis"
        ];
        program = "uvicorn";
      }
    ];
  };

  testManifestProcessCommandIsSplitLikeAShell = {
    expr =
      (builtins.head
        (planOf (manifest [ ] { processes.job.command = "python -c 'print(1)' \"a b\" c\\ d"; }) [ ])
        .processes
      ).command;
    expected = [
      "python"
      "-c"
      "print(1)"
      "a b"
      "c d"
    ];
  };

  testManifestRemovesTheApp = {
    expr = (planOf (manifest [ "api" ] { processes.app.enable = false; }) [ ]).processes;
    expected = [ ];
  };

  testModuleBeatsManifestForAProcess = {
    expr =
      (builtins.head
        (planOf (manifest [ "api" ] { processes.app.port = 7000; }) [ { processes.app.port = 7001; } ])
        .processes
      ).port;
    expected = 7001;
  };

  testProcessWithPortPlaceholderButNoPortFails = {
    expr = fails (planOf (manifest [ ] { processes.job.command = "serve {port}"; }) [ ]);
    expected = true;
  };

  testDevcontainerFlavourFromManifest = {
    expr = (evalWith (manifest [ ] { devcontainer.flavour = "nix"; }) [ ]).riso.devcontainer.settings.postStartCommand;
    expected = "nix develop --command riso up -d";
  };
}
