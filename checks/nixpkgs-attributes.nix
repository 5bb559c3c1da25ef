# Every nixpkgs attribute riso defaults to, with the nixpkgs files that define it.
#
# `defines`: where the derivation is written (its `meta.position` falls in one of them;
#            `checks.<system>.nixpkgs-sources` asserts that against the pinned nixpkgs).
# `binds`:   where the attribute name is bound, when that is another file.
# Paths are those of nixos-25.11 (not verified here: no nixpkgs checkout); where nixpkgs
# moved a package to pkgs/by-name around that release, both locations are listed.
let
  postgres = version: {
    attr = "postgresql_${version}";
    defines = [ "pkgs/servers/sql/postgresql/generic.nix" ];
    binds = "pkgs/servers/sql/postgresql/default.nix";
    usedBy = "services.postgres.package when `version = \"${version}\"`";
  };
  pythonModule = name: {
    attr = "python3Packages.${name}";
    defines = [ "pkgs/development/python-modules/${name}/default.nix" ];
    binds = "pkgs/top-level/python-packages.nix";
    usedBy = "packages.riso (dependency)";
  };
  interpreter = attr: {
    inherit attr;
    defines = [ "pkgs/development/interpreters/python/cpython/default.nix" ];
    binds = "pkgs/development/interpreters/python/default.nix";
    usedBy = "riso.python.package for Python 3.${builtins.substring 7 2 attr}";
  };
in
[
  {
    attr = "postgresql";
    defines = [ "pkgs/servers/sql/postgresql/generic.nix" ];
    binds = "pkgs/top-level/all-packages.nix";
    usedBy = "services.postgres.package (no version)";
  }
  (postgres "18")
  (postgres "14")
  (postgres "15")
  (postgres "16")
  (postgres "17")
  {
    attr = "redis";
    defines = [ "pkgs/by-name/re/redis/package.nix" ];
    binds = null;
    usedBy = "services.redis.package";
  }
  {
    attr = "prometheus";
    defines = [
      "pkgs/by-name/pr/prometheus/package.nix"
      "pkgs/servers/monitoring/prometheus/default.nix"
    ];
    binds = null;
    usedBy = "services.prometheus.package";
  }
  {
    attr = "grafana";
    defines = [
      "pkgs/servers/monitoring/grafana/default.nix"
      "pkgs/by-name/gr/grafana/package.nix"
    ];
    binds = null;
    usedBy = "services.grafana.package";
  }
  (interpreter "python311")
  (interpreter "python312")
  (interpreter "python313")
  {
    attr = "python3";
    defines = [ "pkgs/development/interpreters/python/cpython/default.nix" ];
    binds = "pkgs/top-level/all-packages.nix";
    usedBy = "packages.riso, the riso dev shell";
  }
  {
    attr = "poetry";
    defines = [
      "pkgs/by-name/po/poetry/unwrapped.nix"
      "pkgs/by-name/po/poetry/package.nix"
    ];
    binds = null;
    usedBy = "riso.python.packageManagerPackage (poetry)";
  }
  {
    attr = "uv";
    defines = [ "pkgs/by-name/uv/uv/package.nix" ];
    binds = null;
    usedBy = "riso.python.packageManagerPackage (uv)";
  }
  {
    attr = "age";
    defines = [ "pkgs/by-name/ag/age/package.nix" ];
    binds = null;
    usedBy = "riso.python.tools (with the secrets feature)";
  }
  {
    attr = "ruff";
    defines = [ "pkgs/by-name/ru/ruff/package.nix" ];
    binds = null;
    usedBy = "riso.python.tools, checks.ruff";
  }
  {
    attr = "nixfmt";
    defines = [
      "pkgs/by-name/ni/nixfmt/package.nix"
      "pkgs/by-name/ni/nixfmt/generated-package.nix"
    ];
    binds = null;
    usedBy = "formatter, checks.format";
  }
  {
    attr = "copier";
    defines = [
      "pkgs/by-name/co/copier/package.nix"
      "pkgs/development/python-modules/copier/default.nix"
    ];
    binds = null;
    usedBy = "packages.riso, when `python3Packages.copier` is absent";
  }
  (pythonModule "poetry-core")
  (pythonModule "typer")
  (pythonModule "rich")
  (pythonModule "pydantic")
  (pythonModule "tomlkit")
  (pythonModule "psutil")
  (pythonModule "pyyaml")
  (pythonModule "python-dotenv")
]
