# The project's own processes (src/riso/plan.py, `processes`): `app` (uvicorn with reload)
# when the `api` feature is on, `worker` (`python -m <package> worker`) when the `tasks` feature
# is on, and those declared in `[tool.riso.processes.<name>]` or in a module. `riso up` runs
# each under a supervisor after the services (docs/runner.md).
#
# Priorities as for services: the app's defaults are `mkDefault`, the manifest is 900, a
# user module's plain definition 100; `env`, `exports` and `readiness` merge key by key.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.processes;
  fromManifest = lib.mkOverride 900;

  # shlex.split(text) (POSIX mode, no comments), as src/riso/config.py splits a string command:
  # blanks separate words; '...' is literal; in "..." a backslash escapes only `"` and itself;
  # elsewhere a backslash escapes any character.
  splitCommand =
    let
      blank = "[ \t\r\n]*";
      token = "(([^ \t\r\n'\"\\\\]|'[^']*'|\"([^\"\\\\]|\\\\.)*\"|\\\\.)+)";
      piece = "'([^']*)'|\"(([^\"\\\\]|\\\\.)*)\"|\\\\(.)|([^'\"\\\\]+)";
      doubleQuoted =
        text:
        lib.concatMapStrings (
          part:
          if builtins.isString part then
            part
          else if
            builtins.elem (builtins.head part) [
              "\""
              "\\"
            ]
          then
            builtins.head part
          else
            "\\" + builtins.head part
        ) (builtins.split "\\\\(.)" text);
      unquote =
        word:
        lib.concatMapStrings (
          part:
          let
            at = builtins.elemAt part;
          in
          if builtins.isString part then
            part
          else if at 0 != null then
            at 0
          else if at 1 != null then
            doubleQuoted (at 1)
          else if at 3 != null then
            at 3
          else
            at 4
        ) (builtins.split piece word);
    in
    what: command:
    if builtins.isList command then
      command
    else
      let
        parts = builtins.split token command;
      in
      if builtins.all (gap: builtins.match blank gap != null) (builtins.filter builtins.isString parts) then
        map (part: unquote (builtins.head part)) (builtins.filter builtins.isList parts)
      else
        throw "riso: ${what}: cannot split ${builtins.toJSON command}: a quote is not closed, or it ends with a backslash";

  commandType = types.either types.str (types.listOf types.str);

  processOptions = {
      options = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Whether `riso up` runs this process (`false` removes a default one, such as `app`).";
        };

        command = mkOption {
          type = commandType;
          example = "python -m http.server {port}";
          description = ''
            The program and its arguments: a list, or a string split like a POSIX shell
            (`shlex.split`). Placeholders: `{root}`, `{state}`, `{run}`, `{logs}`, `{host}`,
            `{port}`, `{port:NAME}` (docs/plan.md). The program is looked up in the project's
            `.venv/bin`, then on PATH.
          '';
        };

        env = mkOption {
          type = types.attrsOf types.str;
          default = { };
          example = {
            LOG_LEVEL = "debug";
          };
          description = "Its environment (templates), over the caller's and every export of `riso env`.";
        };

        exports = mkOption {
          type = types.attrsOf types.str;
          default = { };
          example = {
            APP_URL = "http://{host}:{port}";
          };
          description = "Variables `riso env` prints for it (templates).";
        };

        dependsOn = mkOption {
          type = types.listOf types.str;
          default = [ ];
          example = [ "redis" ];
          description = "Services or processes started and ready first (`depends_on` in the manifest).";
        };

        readiness = {
          type = mkOption {
            type = types.enum [
              "http"
              "command"
              "none"
            ];
            default = "none";
            description = ''
              When it is ready: `http` (a GET of `path` on its port answers 2xx), `command` (the
              command exits 0) or `none` (it still runs half a second after it started).
            '';
          };

          path = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/healthz";
            description = "`http`: the path probed; null = `/`.";
          };

          command = mkOption {
            type = types.nullOr commandType;
            default = null;
            example = "redis-cli -p {port:redis} ping";
            description = "`command`: run (with the process's environment) until it exits 0.";
          };

          timeout = mkOption {
            type = types.number;
            default = 30;
            description = "Seconds `riso up` waits for it to be ready.";
          };
        };

        restart = mkOption {
          type = types.enum [
            "no"
            "on-failure"
            "always"
          ];
          default = "on-failure";
          description = "When its supervisor restarts it after it exits: never, after a non-zero exit or a signal, or always.";
        };

        maxRestarts = mkOption {
          type = types.ints.unsigned;
          default = 5;
          description = "Restarts in a row before the supervisor gives up (`max_restarts` in the manifest).";
        };

        backoff = mkOption {
          type = types.number;
          default = 1;
          description = "Seconds before the first restart, doubled for each restart in a row (at most 30).";
        };

        port = mkOption {
          type = types.nullOr types.port;
          default = null;
          example = 0;
          description = "Where it listens: a fixed port, 0 to let the runner allocate one, null when it does not listen.";
        };

        stopSignal = mkOption {
          type = types.enum [
            "SIGINT"
            "SIGTERM"
            "SIGQUIT"
            "SIGHUP"
          ];
          default = "SIGTERM";
          description = "Sent to its process group by `riso down` (`stop_signal` in the manifest).";
        };

        stopTimeout = mkOption {
          type = types.number;
          default = 10;
          description = "Seconds before SIGKILL (`stop_timeout` in the manifest).";
        };

        workingDir = mkOption {
          type = types.str;
          default = "{root}";
          description = "Where it runs (`working_dir` in the manifest).";
        };
      };
    };

  # `[tool.riso.processes.<name>]` keys -> option names
  keys = {
    enable = "enable";
    command = "command";
    env = "env";
    exports = "exports";
    depends_on = "dependsOn";
    readiness = "readiness";
    restart = "restart";
    max_restarts = "maxRestarts";
    backoff = "backoff";
    port = "port";
    stop_signal = "stopSignal";
    stop_timeout = "stopTimeout";
    working_dir = "workingDir";
  };
  readinessKeys = [
    "type"
    "path"
    "command"
    "timeout"
  ];
  inherit (import ./services/common.nix { inherit lib; }) unknownIn;
  manifestTable = config.riso.pyproject.tool.riso.processes or { };
  manifestDefs = lib.mapAttrs (
    name: table:
    lib.mapAttrs' (
      key: value:
      lib.nameValuePair keys.${key} (
        if
          builtins.elem key [
            "env"
            "exports"
          ]
        then
          lib.mapAttrs (_: fromManifest) value
        else if key == "readiness" then
          lib.mapAttrs (_: fromManifest) (unknownIn "[tool.riso.processes.${name}] readiness" readinessKeys value)
        else
          fromManifest value
      )
    ) (unknownIn "[tool.riso.processes.${name}]" (builtins.attrNames keys) table)
  ) manifestTable;

  # the plan's services (as modules/plan.nix lists them), without evaluating the plan
  serviceNames = lib.concatMap (
    name:
    lib.optional config.services.${name}.enable name
    ++ lib.optionals (name == "postgres") (map (e: e.name) config.services.postgres.instanceEntries)
  ) config.riso.serviceOrder;
  # the services the app and the worker connect to; Prometheus and Grafana watch the app instead
  served = builtins.filter (
    s:
    !builtins.elem s [
      "prometheus"
      "grafana"
    ]
  ) serviceNames;
  enabled = lib.filterAttrs (_: p: p.enable) cfg;
  known = serviceNames ++ builtins.attrNames enabled;
  package = builtins.replaceStrings [ "-" ] [ "_" ] (lib.toLower config.riso.project.name);

  # The plan entry, checked as src/riso/plan.py checks it.
  entryOf =
    name: p:
    let
      where = "[tool.riso.processes.${name}]";
      ready = p.readiness;
      argv = splitCommand "${where} command" p.command;
      readyArgv = if ready.command == null then null else splitCommand "${where} readiness" ready.command;
      entry = {
        inherit name;
        command = argv;
        inherit (p)
          env
          exports
          restart
          backoff
          port
          ;
        depends_on = p.dependsOn;
        readiness = {
          inherit (ready) type timeout;
          path = if ready.type == "http" then (if ready.path == null then "/" else ready.path) else null;
          argv = if ready.type == "command" then readyArgv else null;
        };
        max_restarts = p.maxRestarts;
        stop_signal = p.stopSignal;
        stop_timeout = p.stopTimeout;
        working_dir = p.workingDir;
      };
      templates =
        argv ++ builtins.attrValues p.env ++ builtins.attrValues p.exports ++ lib.optionals (readyArgv != null) readyArgv;
      usesPort = builtins.any (lib.hasInfix "{port}") templates || ready.type == "http";
      badDependency = lib.findFirst (d: d == name || !(builtins.elem d known)) null p.dependsOn;
    in
    if builtins.match "[a-z][a-z0-9_-]*" name == null then
      throw "riso: process name '${name}': use lowercase letters, digits, '-' and '_'"
    else if builtins.elem name serviceNames then
      throw "riso: ${where}: '${name}' is the name of a service"
    else if argv == [ ] then
      throw "riso: ${where}: command is empty"
    else if ready.type == "command" && (readyArgv == null || readyArgv == [ ]) then
      throw "riso: ${where}: readiness of type \"command\" needs command = \"...\""
    else if ready.path != null && !(lib.hasPrefix "/" ready.path) then
      throw "riso: ${where}: readiness path must start with '/' (got '${ready.path}')"
    else if badDependency != null then
      throw "riso: ${where} depends_on: '${badDependency}' is ${
        if badDependency == name then "itself" else "not a service or process of this project"
      }"
    else if p.port == null && usesPort then
      throw "riso: ${where} has no port, but ${
        if ready.type == "http" then "its readiness is http" else "it uses {port}"
      } (add port = 0, or a fixed port)"
    else
      entry;
in
{
  options.processes = mkOption {
    type = types.attrsOf (types.submodule processOptions);
    default = { };
    example = lib.literalExpression ''
      {
        worker = {
          command = "python -m myapp.worker";
          dependsOn = [ "redis" ];
        };
      }
    '';
    description = ''
      The project's own programs, run by `riso up` after the services, each under a supervisor
      that restarts it per `restart` (`[tool.riso.processes.<name>]` in the manifest). With the
      `api` feature, `app` runs `uvicorn <package>.main:create_app --factory --reload` on
      `services.prometheus.appPort` and exports `APP_URL`; with the `tasks` feature, `worker`
      runs `python -m <package> worker`.
    '';
  };

  options.riso.processEntries = mkOption {
    type = types.listOf (types.attrsOf types.anything);
    readOnly = true;
    internal = true;
    description = "The enabled processes' plan entries, by name.";
  };

  config = lib.mkMerge [
    (lib.mkIf (builtins.elem "api" config.riso.features) {
      processes.app = {
        command = lib.mkDefault [
          "uvicorn"
          "${package}.main:create_app"
          "--factory"
          "--reload"
          "--reload-dir"
          "{root}/src"
          "--host"
          "{host}"
          "--port"
          "{port}"
        ];
        exports.APP_URL = lib.mkDefault "http://{host}:{port}";
        dependsOn = lib.mkDefault served;
        readiness = {
          type = lib.mkDefault "http";
          path = lib.mkDefault "/healthz";
        };
        # where Prometheus scrapes the app
        port = lib.mkDefault config.services.prometheus.appPort;
      };
    })
    (lib.mkIf (builtins.elem "tasks" config.riso.features) {
      # the job worker (it runs the periodic jobs too); restarted on failure
      processes.worker = {
        command = lib.mkDefault [
          "python"
          "-m"
          package
          "worker"
        ];
        dependsOn = lib.mkDefault served;
      };
    })
    { processes = manifestDefs; }
    { riso.processEntries = lib.mapAttrsToList entryOf enabled; }
  ];
}
