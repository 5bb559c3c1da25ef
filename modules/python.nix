# The Python side of a project: interpreter, package manager and tools. The environments
# themselves are built from uv.lock by uv2nix (lib/python-env.nix), not from nixpkgs'
# Python set, so Nix installs the locked versions.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.riso.python;

  interpreterAttr = "python3" + lib.removePrefix "3." cfg.version;
in
{
  options.riso.python = {
    version = mkOption {
      type = types.enum [
        "3.11"
        "3.12"
        "3.13"
      ];
      default = "3.11";
      description = "Python version of the project (`[tool.riso] python`).";
    };

    package = mkOption {
      type = types.package;
      default = pkgs.${interpreterAttr};
      defaultText = lib.literalExpression ''pkgs."python3''${lib.removePrefix "3." config.riso.python.version}"'';
      description = "The interpreter uv2nix builds the environments for: `python311`, `python312` or `python313`.";
    };

    packageManager = mkOption {
      type = types.enum [
        "poetry"
        "uv"
        "pip"
      ];
      default = "uv";
      description = "Package manager of the project (`[tool.riso] package_manager`). The Nix build reads `uv.lock`, so it needs uv; with another one it fails at evaluation saying so.";
    };

    packageManagerPackage = mkOption {
      type = types.nullOr types.package;
      default =
        {
          poetry = pkgs.poetry;
          uv = pkgs.uv;
          pip = null;
        }
        .${cfg.packageManager};
      defaultText = lib.literalExpression "pkgs.uv (pkgs.poetry for poetry; null for pip)";
      description = "The package manager put in the dev shell.";
    };

    tools = mkOption {
      type = types.listOf types.package;
      default = [ pkgs.ruff ];
      defaultText = lib.literalExpression "[ pkgs.ruff ]";
      description = "Extra tools in the dev shell and the lint check.";
    };
  };
}
