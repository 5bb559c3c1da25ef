# The secrets feature: `age` in the dev shell beside the project's tools, for `riso secrets`'
# counterpart on the command line and the generated tests' round trips with the real binary.
# Merged with `riso.python.tools`' default (ruff) at the same priority, so a project's own
# `riso.python.tools` list replaces both, as it replaces the default alone.
{
  config,
  lib,
  pkgs,
  ...
}:
{
  config = lib.mkIf (builtins.elem "secrets" config.riso.features) {
    riso.python.tools = lib.mkOptionDefault [ pkgs.age ];
  };
}
