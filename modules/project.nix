# The project: its name, its features, and `[tool.riso]` read from its pyproject.toml.
#
# Priorities (highest first): a user module's plain definition (100), the manifest
# `[tool.riso]` (900), a feature's implied service (mkDefault, 1000), the option default.
# So `services.postgres.port = 6000;` in a module beats `port = 5432` in the manifest,
# and `[tool.riso.services.redis] enable = false` beats the `cache` feature.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.riso;

  # modules/features.json, written from src/riso/features.py: feature -> services.
  featureData = lib.importJSON ./features.json;
  featureServices = featureData.features;
  inherit (featureData) serviceOrder;

  # Manifest keys (snake_case, as in pyproject.toml) -> option names, per service.
  common = {
    enable = "enable";
    port = "port";
    settings = "settings";
  };
  serviceKeys = {
    postgres = common // {
      version = "version";
      initial_databases = "initialDatabases";
      initial_script = "initialScript";
      extensions = "extensions";
      listen_addresses = "listen_addresses";
      socket_dir = "socketDir";
      data_dir = "dataDir";
      hba_conf = "hbaConf";
      initdb_args = "initdbArgs";
      instances = "instances";
    };
    redis = common;
    prometheus = common // {
      scrape_interval = "scrapeInterval";
      app_port = "appPort";
    };
    grafana = common // {
      admin_password = "adminPassword";
    };
  };
  topKeys = [
    "name"
    "features"
    "python"
    "package_manager"
    "services"
    "processes"
    "devcontainer"
  ];

  manifestPriority = 900;
  fromManifest = lib.mkOverride manifestPriority;

  table = cfg.pyproject.tool.riso or { };
  inherit (import ./services/common.nix { inherit lib; }) unknownIn;
  checkedTable = unknownIn "[tool.riso]" topKeys table;
  manifestServices = unknownIn "[tool.riso.services]" serviceOrder (checkedTable.services or { });

  # One service table -> option definitions at manifest priority. Settings are pushed
  # down per key (per section and key for Grafana's INI sections) so a user module can
  # change one setting and keep the others.
  pushSettings = lib.mapAttrs (
    _: value:
    if builtins.isAttrs value then lib.mapAttrs (_: fromManifest) value else fromManifest value
  );
  tableDefs =
    what: keys: table:
    lib.mapAttrs' (
      key: value:
      lib.nameValuePair keys.${key} (
        if key == "settings" then
          pushSettings value
        else if key == "initial_script" then
          lib.mapAttrs (_: fromManifest) value
        else if key == "instances" then
          lib.mapAttrs (
            instance: t:
            tableDefs "${what}.instances.${instance}" (builtins.removeAttrs keys [ "instances" ]) t
          ) value
        else
          fromManifest value
      )
    ) (unknownIn what (builtins.attrNames keys) table);
  serviceDefs =
    name:
    tableDefs "[tool.riso.services.${name}]" serviceKeys.${name} (manifestServices.${name} or { });

  projectName =
    let
      fromTool = table.name or null;
      chosen = if fromTool != null then fromTool else cfg.pyproject.project.name or "";
    in
    if chosen == "" then "app" else chosen;

  implied = lib.unique (lib.concatMap (f: featureServices.${f}) cfg.features);

  # The first broken `requires` or `conflicts` rule of src/riso/features.py, in the words riso uses.
  featureProblem =
    chosen:
    let
      sorted = lib.sort (a: b: a < b) (lib.unique chosen);
      missing = lib.concatMap (
        name:
        map (need: "feature '${name}' requires '${need}'; add '${need}' or leave out '${name}'") (
          lib.filter (need: !(lib.elem need chosen)) (featureData.requires.${name} or [ ])
        )
      ) sorted;
      clashes = lib.concatMap (
        name:
        map (other: "features '${name}' and '${other}' conflict; keep only one of them") (
          lib.filter (other: lib.elem other chosen) (featureData.conflicts.${name} or [ ])
        )
      ) sorted;
      found = missing ++ clashes;
    in
    if found == [ ] then null else lib.head found;
  checkFeatures =
    chosen:
    let
      found = featureProblem chosen;
    in
    if found == null then chosen else throw "riso: ${found}";
in
{
  options.riso = {
    src = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = lib.literalExpression "./.";
      description = "The project folder; `pyproject.toml` in it is read for `[tool.riso]`.";
    };

    pyproject = mkOption {
      type = types.attrsOf types.anything;
      default =
        if cfg.src != null && builtins.pathExists (cfg.src + "/pyproject.toml") then
          builtins.fromTOML (builtins.readFile (cfg.src + "/pyproject.toml"))
        else
          { };
      defaultText = lib.literalExpression ''builtins.fromTOML (builtins.readFile (config.riso.src + "/pyproject.toml"))'';
      description = "The parsed `pyproject.toml`; `[tool.riso]` in it sets the options below at manifest priority.";
    };

    project.name = mkOption {
      type = types.str;
      default = projectName;
      defaultText = lib.literalMD "`[tool.riso] name`, else `[project] name`, else `\"app\"`";
      description = "Project name, used in the plan and as the Prometheus job of the app.";
    };

    features = mkOption {
      type = types.listOf (types.enum (builtins.attrNames featureServices));
      default = checkedTable.features or [ ];
      defaultText = lib.literalMD "`[tool.riso] features`";
      apply = checkFeatures;
      example = [
        "api"
        "database"
      ];
      description = ''
        Features of the project. Each implies services with `lib.mkDefault`:
        database: postgres; cache and tasks: redis; monitoring: prometheus and grafana.
        The rules of `src/riso/features.py` hold (auth needs api and database): a set that
        breaks them is refused with one line naming the missing feature.
      '';
    };

    featureServices = mkOption {
      type = types.attrsOf (types.listOf types.str);
      default = featureServices;
      readOnly = true;
      internal = true;
      description = "Feature -> services it implies (mirrors `src/riso/features.py`).";
    };

    serviceOrder = mkOption {
      type = types.listOf types.str;
      default = serviceOrder;
      readOnly = true;
      internal = true;
      description = "Start order of the services (dependencies first).";
    };
  };

  config = lib.mkMerge [
    # Features imply services; the manifest and user modules override.
    {
      services = lib.genAttrs serviceOrder (
        name: lib.mkIf (builtins.elem name implied) { enable = lib.mkDefault true; }
      );
    }
    { services = lib.genAttrs serviceOrder serviceDefs; }
    (lib.mkIf (checkedTable ? python) { riso.python.version = fromManifest checkedTable.python; })
    (lib.mkIf (checkedTable ? package_manager) {
      riso.python.packageManager = fromManifest checkedTable.package_manager;
    })
    (lib.mkIf (checkedTable ? devcontainer) {
      riso.devcontainer = lib.mapAttrs (_: fromManifest) (
        unknownIn "[tool.riso.devcontainer]" [ "flavour" ] (checkedTable.devcontainer or { })
      );
    })
  ];
}
