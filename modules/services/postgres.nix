# PostgreSQL: initdb once, a server on loopback and a Unix socket, databases with their
# schemas, extensions and a run-once initial script as post-start hooks
# (src/riso/services/postgres.py). Option names are those of services-flake and devenv.
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

  # One server: its options (for services.postgres and each of its instances) and its
  # plan entry. `service` is `postgres` or `postgres-<instance>`.
  serverFor =
    service: cfg:
    let
      databases =
        if cfg.initialDatabases == [ ] then
          [
            {
              name = "app";
              schemas = [ ];
            }
          ]
        else
          cfg.initialDatabases;
      names = map (db: db.name) databases;
      # outside the data dir: initdb needs an empty one
      hbaPath = "{state}/${service}-hba.conf";
      # postgres -> DATABASE_URL; postgres-analytics -> DATABASE_URL_ANALYTICS
      suffix = lib.removePrefix "-" (lib.removePrefix "postgres" service);
      urlVariable =
        "DATABASE_URL"
        + lib.optionalString (suffix != "") "_${lib.toUpper (builtins.replaceStrings [ "-" ] [ "_" ] suffix)}";

      # `extensions`: names (from the manifest: CREATE EXTENSION in every database) or, as in
      # devenv, `ps: [ ps.postgis ]` (added to the package with withPackages).
      extensionNames = if builtins.isList cfg.extensions then cfg.extensions else [ ];
      # (a merged functionTo value is callable but not `builtins.isFunction`)
      extensionPackages =
        if builtins.isList cfg.extensions then
          ps: lib.concatMap (n: lib.optional (ps ? ${n}) ps.${n}) extensionNames
        else
          cfg.extensions;

      options =
        lib.concatMap (s: [
          "-c"
          "${s.name}=${common.pyStr s.value}"
        ]) (common.sortedSettings cfg.settings)
        ++ lib.optionals (cfg.hbaConf != null) [
          "-c"
          "hba_file=${hbaPath}"
        ];

      sql = database: text: {
        type = "sql";
        inherit database;
        sql = text;
      };
      hooks =
        lib.optional (cfg.initialScript.before != null) (sql "postgres" cfg.initialScript.before)
        ++ map (name: {
          type = "create_database";
          inherit name;
        }) names
        ++ lib.concatMap (
          db:
          map (schema: sql db.name ''CREATE SCHEMA IF NOT EXISTS "${schema}"'') db.schemas
          ++ map (ext: sql db.name ''CREATE EXTENSION IF NOT EXISTS "${ext}"'') extensionNames
        ) databases
        ++ lib.optional (cfg.initialScript.after != null) (sql "postgres" cfg.initialScript.after);

      tools = [
        "postgres"
        "initdb"
        "pg_ctl"
        "psql"
      ];

      basePackage =
        pkgs.${cfg.packageAttr}
          or (throw "riso: services.postgres.version = \"${toString cfg.version}\": nixpkgs has no attribute '${cfg.packageAttr}'");
      withExtensions =
        let
          chosen = extensionPackages basePackage.pkgs;
        in
        if chosen == [ ] then basePackage else basePackage.withPackages (_: chosen);
    in
    {
      options = {
        package = mkOption {
          type = types.package;
          default = withExtensions;
          defaultText = lib.literalExpression "pkgs.\${config.services.postgres.packageAttr}, with `extensions` added by withPackages";
          description = "The PostgreSQL package; its `bin` output provides postgres, initdb, pg_ctl and psql.";
        };

        version = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "16";
          description = "Major version: `package` defaults to nixpkgs' `postgresql_<version>`; null = `postgresql`.";
        };

        packageAttr = mkOption {
          type = types.str;
          default =
            if cfg.version == null || cfg.version == "" then "postgresql" else "postgresql_${cfg.version}";
          defaultText = lib.literalMD "`\"postgresql\"`, or `\"postgresql_<version>\"` when `version` is set";
          description = "The nixpkgs attribute `package` defaults to; recorded as `package` in the plan.";
        };

        initialDatabases = mkOption {
          type = types.listOf (
            types.submodule {
              options = {
                name = mkOption {
                  type = types.str;
                  description = "Database name.";
                };
                schemas = mkOption {
                  type = types.listOf types.str;
                  default = [ ];
                  description = "Schemas created in it (`CREATE SCHEMA IF NOT EXISTS`).";
                };
              };
            }
          );
          default = [ { name = "app"; } ];
          description = "Databases created after start (`initial_databases`); the first is the one `DATABASE_URL` names.";
        };

        initialScript = {
          before = mkOption {
            type = types.nullOr types.lines;
            default = null;
            description = "SQL run in the `postgres` database before the databases are created; once, and again when it changes.";
          };
          after = mkOption {
            type = types.nullOr types.lines;
            default = null;
            description = "SQL run in the `postgres` database after the databases are created; once, and again when it changes.";
          };
        };

        extensions = mkOption {
          type = types.either (types.listOf types.str) (types.functionTo (types.listOf types.package));
          default = [ ];
          example = lib.literalExpression "ps: [ ps.postgis ]";
          description = ''
            Extension names (as in the manifest): `CREATE EXTENSION IF NOT EXISTS` in every database,
            and the package from `package.pkgs` added where one exists (contrib ones such as
            `pg_trgm` ship with the server). Or a function of the extension set, as in devenv:
            those packages are added with `withPackages`; create them in `initialScript`.
          '';
        };

        listen_addresses = mkOption {
          type = types.str;
          default = "{host}";
          description = "Addresses the server listens on; `{host}` is the runner's loopback address, `\"\"` = the socket only.";
        };

        socketDir = mkOption {
          type = types.str;
          default = "{run}";
          description = "Folder of the Unix socket (`socket_dir`); `{run}` is the project's `.riso/run`.";
        };

        dataDir = mkOption {
          type = types.nullOr types.str;
          default = null;
          description = "Data directory (`data_dir`); null = `{state}/<service name>`, `{state}` being the project's `.riso/state`.";
        };

        hbaConf = mkOption {
          type = types.nullOr types.lines;
          default = null;
          description = "Content of pg_hba.conf (`hba_conf`), written beside the data dir; null = initdb's.";
        };

        initdbArgs = mkOption {
          type = types.listOf types.str;
          default = [
            "--username=postgres"
            "--auth=trust"
            "--encoding=UTF8"
            "--locale=C"
          ];
          description = "Arguments of initdb after `--pgdata` (`initdb_args`).";
        };
      };

      entry = common.entry {
        name = service;
        package = cfg.packageAttr;
        inherit (cfg) version port settings;
        binaries = lib.genAttrs tools (common.bin cfg.package);
        data_dir = if cfg.dataDir == null then "{state}/${service}" else cfg.dataDir;
        socket_dir = cfg.socketDir;
        files = lib.optional (cfg.hbaConf != null) {
          path = hbaPath;
          content = cfg.hbaConf;
        };
        init = [
          (
            [
              "{bin:initdb}"
              "--pgdata={data_dir}"
            ]
            ++ cfg.initdbArgs
          )
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
          "listen_addresses=${cfg.listen_addresses}"
        ]
        ++ options;
        readiness = common.readiness "postgres" 60 null;
        stop_signal = "SIGINT";
        stop_timeout = 30;
        env = {
          ${urlVariable} = "postgresql://postgres@{host}:{port}/${builtins.head names}";
        }
        // lib.optionalAttrs (service == "postgres") {
          PGHOST = "{host}";
          PGPORT = "{port}";
          PGUSER = "postgres";
          PGDATABASE = builtins.head names;
        };
        post_start = hooks;
        needs_unprivileged_user = true;
      };
    };

  main = serverFor "postgres" cfg;
  instanceType = types.submodule (
    { config, name, ... }:
    {
      options = builtins.removeAttrs (serverFor "postgres-${name}" config).options [ "package" ] // {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Whether this instance runs (declaring it turns it on).";
        };
        inherit (shared) port settings;
        package = (serverFor "postgres-${name}" config).options.package;
      };
    }
  );
  shared = common.mkServiceOptions {
    name = "postgres";
    what = "PostgreSQL";
    package = main.options.package;
  };
in
{
  options.services.postgres =
    shared
    // builtins.removeAttrs main.options [ "package" ]
    // {
      instances = mkOption {
        type = types.attrsOf instanceType;
        default = { };
        example = lib.literalExpression "{ analytics.initialDatabases = [ { name = \"events\"; } ]; }";
        description = ''
          More PostgreSQL servers, each the service `postgres-<name>` with the options above,
          its own port and data dir, exporting `DATABASE_URL_<NAME>` (`[tool.riso.services.postgres.instances.<name>]`).
        '';
      };

      instanceEntries = mkOption {
        type = types.listOf (types.attrsOf types.anything);
        readOnly = true;
        internal = true;
        description = "Plan entries of the enabled instances, in name order.";
      };
    };

  config.services.postgres = {
    planEntry = main.entry;
    instanceEntries = map (name: (serverFor "postgres-${name}" cfg.instances.${name}).entry) (
      builtins.filter (name: cfg.instances.${name}.enable) (builtins.attrNames cfg.instances)
    );
  };
}
