# Everything above -> the service plan (docs/plan.md), the one interface to the runner.
# `lib.mkFlake` writes `riso.planJSON` to the store and exports it as RISO_PLAN.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  enabled = builtins.filter (name: config.services.${name}.enable) config.riso.serviceOrder;
  entry =
    name:
    let
      e = config.services.${name}.planEntry;
    in
    e // { depends_on = builtins.filter (d: builtins.elem d enabled) e.depends_on; };
in
{
  options.riso = {
    plan = mkOption {
      type = types.attrsOf types.anything;
      readOnly = true;
      defaultText = lib.literalMD "computed from `riso.project`, `riso.features` and `services.*`";
      description = "The service plan: enabled services in start order, with store paths as binaries, then the project's processes.";
    };

    planJSON = mkOption {
      type = types.str;
      readOnly = true;
      defaultText = lib.literalExpression "builtins.toJSON config.riso.plan";
      description = "`riso.plan` as JSON, the content of the file RISO_PLAN points at.";
    };
  };

  config.riso = {
    plan = {
      schema_version = 1;
      project = {
        inherit (config.riso.project) name;
        features = lib.unique (lib.sort lib.lessThan config.riso.features);
      };
      # the extra Postgres servers follow postgres' place in the order
      services = lib.concatMap (
        name:
        lib.optional (builtins.elem name enabled) (entry name)
        ++ lib.optionals (name == "postgres") config.services.postgres.instanceEntries
      ) config.riso.serviceOrder;
      # the project's own programs, by name (modules/processes.nix)
      processes = config.riso.processEntries;
    };
    planJSON = builtins.toJSON config.riso.plan;
  };
}
