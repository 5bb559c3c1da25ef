{
  description = "An API service with a database, a cache, background jobs and monitoring";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";
    riso = {
      url = "github:riso-dev/riso";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  # Python comes from uv.lock (uv2nix); services, Python version and features from
  # [tool.riso] in pyproject.toml. Options: riso's docs/nix.md, e.g.
  #   riso.lib.mkFlake { inherit inputs; src = ./.; modules = [ { services.postgres.port = 5432; } ]; }
  outputs =
    { riso, ... }@inputs:
    riso.lib.mkFlake {
      inherit inputs;
      src = ./.;
    };
}
