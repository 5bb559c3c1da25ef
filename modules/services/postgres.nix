# PostgreSQL: initdb once, a server on loopback and a Unix socket in `.riso/run`,
# databases, extensions and initial SQL as post-start hooks (src/riso/services/postgres.py).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  common = import ./common.nix { inherit lib; };
  cfg = config.services.postgres;

  databases = if cfg.databases == [ ] then [ "app" ] else cfg.databases;
  options = lib.concatMap (s: [
    "-c"
    "${s.name}=${common.pyStr s.value}"
  ]) (common.sortedSettings cfg.settings);

  hooks =
    map (db: {
      type = "create_database";
      name = db;
    }) databases
    ++ lib.concatMap (
      db:
      map (ext: {
        type = "sql";
        database = db;
        sql = ''CREATE EXTENSION IF NOT EXISTS "${ext}"'';
      }) cfg.extensions
      ++ map (sql: {
        type = "sql";
        database = db;
        inherit sql;
      }) cfg.initialScripts
    ) databases;

  tools = [
    "postgres"
    "initdb"
    "pg_ctl"
    "psql"
  ];
in
{
  options.services.postgres =
    common.mkServiceOptions {
      name = "postgres";
      what = "PostgreSQL";
      package = mkOption {
        type = types.package;
        default =
          pkgs.${cfg.packageAttr}
            or (throw "riso: services.postgres.version = \"${toString cfg.version}\": nixpkgs has no attribute '${cfg.packageAttr}'");
        defaultText = lib.literalExpression ''pkgs.''${config.services.postgres.packageAttr}'';
        description = "The PostgreSQL package; its `bin/` provides postgres, initdb, pg_ctl and psql.";
      };
    }
    // {
      packageAttr = mkOption {
        type = types.str;
        default =
          if cfg.version == null || cfg.version == "" then "postgresql" else "postgresql_${cfg.version}";
        defaultText = lib.literalMD "`\"postgresql\"`, or `\"postgresql_<version>\"` when `version` is set";
        description = "The nixpkgs attribute `package` defaults to; recorded as `package` in the plan.";
      };

      databases = mkOption {
        type = types.listOf types.str;
        default = [ "app" ];
        description = "Databases created after start; the first is the one `DATABASE_URL` names.";
      };

      extensions = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [ "pg_trgm" ];
        description = "Extensions created (`CREATE EXTENSION IF NOT EXISTS`) in every database.";
      };

      initialScripts = mkOption {
        type = types.listOf types.str;
        default = [ ];
        description = "SQL run in every database after start (`initial_sql` in the manifest); keep it idempotent.";
      };
    };

  config.services.postgres.planEntry = common.entry {
    name = "postgres";
    package = cfg.packageAttr;
    inherit (cfg) version port settings;
    binaries = lib.genAttrs tools (common.bin cfg.package);
    data_dir = "{state}/postgres";
    socket_dir = "{run}";
    init = [
      [
        "{bin:initdb}"
        "--pgdata={data_dir}"
        "--username=postgres"
        "--auth=trust"
        "--encoding=UTF8"
        "--locale=C"
      ]
    ];
    start = [
      "{bin:postgres}"
      "-D"
      "{data_dir}"
      "-p"
      "{port}"
      "-k"
      "{socket_dir}"
      "-c"
      "listen_addresses={host}"
    ] ++ options;
    readiness = common.readiness "postgres" 60 null;
    stop_signal = "SIGINT";
    stop_timeout = 30;
    env = {
      DATABASE_URL = "postgresql://postgres@{host}:{port}/${builtins.head databases}";
      PGHOST = "{host}";
      PGPORT = "{port}";
      PGUSER = "postgres";
      PGDATABASE = builtins.head databases;
    };
    post_start = hooks;
    needs_unprivileged_user = true;
  };
}
