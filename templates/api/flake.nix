{
  description = "An API service with a database, a cache and monitoring";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    riso = {
      url = "github:riso-dev/riso";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  # Services, Python version and package manager come from [tool.riso] in pyproject.toml.
  # Options: riso's docs/nix.md; e.g. modules = [ { services.postgres.port = 5432; } ];
  outputs =
    { riso, ... }:
    riso.lib.mkFlake { src = ./.; };
}
