# All of riso's modules. Evaluate with `lib.evalModules` and a `pkgs` module argument;
# `lib/evalProject.nix` does that for a project folder.
{
  imports = [
    ./project.nix
    ./python.nix
    ./services/postgres.nix
    ./services/redis.nix
    ./services/prometheus.nix
    ./services/grafana.nix
    ./processes.nix
    ./secrets.nix
    ./devcontainer.nix
    ./plan.nix
  ];
}
