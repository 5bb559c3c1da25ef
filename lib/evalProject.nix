# Evaluate riso's modules for one project.
#
#   evalProject { pkgs; src = ./.; modules = [ { services.postgres.port = 6000; } ]; }
#   -> the lib.evalModules result; `.config.riso.plan` is the service plan.
{ lib }:
{
  pkgs,
  src ? null,
  modules ? [ ],
}:
lib.evalModules {
  modules = [
    ../modules
    {
      _module.args.pkgs = lib.mkDefault pkgs;
      riso.src = lib.mkDefault src;
    }
  ] ++ modules;
}
