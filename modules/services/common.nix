# Helpers shared by the service modules (a plain function set, not a module).
{ lib }:
let
  inherit (lib) mkOption types;
in
rec {
  # `attrs` when its keys are all in `allowed`, else an evaluation error naming the first unknown
  # key (the manifest's tables are checked like pydantic's `extra = "forbid"` on the Python side).
  unknownIn =
    what: allowed: attrs:
    let
      bad = lib.subtractLists allowed (builtins.attrNames attrs);
    in
    if bad == [ ] then
      attrs
    else
      throw "riso: ${what} has unknown key '${builtins.head bad}' (known: ${lib.concatStringsSep ", " allowed})";

  # A setting value as the Python side writes it (`str(value)`), so both plans agree.
  pyStr =
    value:
    if builtins.isBool value then
      (if value then "True" else "False")
    else if builtins.isString value then
      value
    else
      builtins.toJSON value;

  sortedSettings = settings: map (key: lib.nameValuePair key settings.${key}) (builtins.attrNames settings);

  # Options every service has: enable, package, port, settings, and the read-only plan
  # entry the service module computes. (`version` is Postgres' own: nixpkgs has one
  # attribute per Postgres major version, not for the others.)
  mkServiceOptions =
    {
      name,
      what,
      package,
    }:
    {
      enable = lib.mkEnableOption what;

      inherit package;

      port = mkOption {
        type = types.port;
        default = 0;
        example = 5432;
        description = "Fixed port on 127.0.0.1, or 0 to let the runner allocate one per project.";
      };

      settings = mkOption {
        type = types.attrsOf (
          types.oneOf [
            types.str
            types.int
            types.bool
            types.float
          ]
        );
        default = { };
        description = "Extra server configuration, passed on the command line and echoed in the plan.";
      };

      planEntry = mkOption {
        type = types.attrsOf types.anything;
        readOnly = true;
        internal = true;
        description = "This service's entry in the plan (docs/plan.md, SERVICE).";
      };
    };

  readiness = type: timeout: path: { inherit type timeout path; };

  # The SERVICE fields with the plan's defaults; each module overrides what it needs.
  entry =
    fields:
    {
      version = null;
      port = 0;
      socket_dir = null;
      files = [ ];
      init = [ ];
      stop_signal = "SIGTERM";
      stop_timeout = 10;
      env = { };
      depends_on = [ ];
      post_start = [ ];
      needs_unprivileged_user = false;
      settings = { };
    }
    // fields;

  # the `bin` output: a shell or plan never pulls in `dev` (headers, LLVM, Perl)
  bin = pkg: name: "${lib.getBin pkg}/bin/${name}";
}
