# The Python side of a project: interpreter, package manager, and the environments
# `lib.mkFlake` builds from nixpkgs' Python set for `packages.default` and `checks`
# (no network in the sandbox, so every dependency must map to a nixpkgs attribute).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.riso.python;
  pyproject = config.riso.pyproject;

  interpreterAttr = "python3" + lib.removePrefix "3." cfg.version;

  # "uvicorn[standard]>=0.30; python_version<'4'" -> { name = "uvicorn"; extras = [ "standard" ]; }
  parseRequirement =
    req:
    let
      spec = builtins.head (lib.splitString ";" req);
      m = builtins.match "[[:space:]]*([A-Za-z0-9._-]+)[[:space:]]*(\\[([^]]*)])?.*" spec;
      normalise = name: lib.toLower (builtins.replaceStrings [ "_" "." ] [ "-" "-" ] name);
    in
    if m == null then
      throw "riso: cannot parse the Python requirement '${req}'"
    else
      {
        name = normalise (builtins.elemAt m 0);
        extras =
          if builtins.elemAt m 2 == null then
            [ ]
          else
            map lib.trim (lib.splitString "," (builtins.elemAt m 2));
      };

  groupRequirements =
    lib.concatLists (builtins.attrValues (pyproject.project.optional-dependencies or { }))
    ++ builtins.filter builtins.isString (
      lib.concatLists (builtins.attrValues (pyproject.dependency-groups or { }))
    )
    ++ lib.concatMap (group: builtins.attrNames (group.dependencies or { })) (
      builtins.attrValues (pyproject.tool.poetry.group or { })
    );

  # riso is installed beside a project, never locked with it (docs/adr/0002).
  notFromNixpkgs = [
    "python"
    "riso"
  ] ++ cfg.ignoredRequirements;

  resolve =
    ps: reqs:
    lib.concatMap (
      r:
      let
        attr = cfg.packageNames.${r.name} or r.name;
        pkg =
          ps.${attr}
            or (throw "riso: the Python requirement '${r.name}' has no attribute in nixpkgs' Python set; map it with riso.python.packageNames or add it to riso.python.ignoredRequirements");
        extras = lib.concatMap (e: pkg.optional-dependencies.${e} or [ ]) r.extras;
      in
      [ pkg ] ++ extras
    ) (builtins.filter (r: !(builtins.elem r.name notFromNixpkgs)) (map parseRequirement reqs));
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
      description = "The interpreter: `python311`, `python312` or `python313` from nixpkgs.";
    };

    packageManager = mkOption {
      type = types.enum [
        "poetry"
        "uv"
        "pip"
      ];
      default = "uv";
      description = "Package manager of the project (`[tool.riso] package_manager`); the Nix build needs uv (it reads `uv.lock`).";
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
      defaultText = lib.literalExpression "pkgs.poetry (or pkgs.uv; null for pip)";
      description = "The package manager put in the dev shell.";
    };

    tools = mkOption {
      type = types.listOf types.package;
      default = [ pkgs.ruff ];
      defaultText = lib.literalExpression "[ pkgs.ruff ]";
      description = "Extra tools in the dev shell and the lint check.";
    };

    packageNames = mkOption {
      type = types.attrsOf types.str;
      default = { };
      example = {
        "psycopg" = "psycopg";
      };
      description = "Requirement name (normalised, lowercase) -> attribute in nixpkgs' Python set, where they differ.";
    };

    ignoredRequirements = mkOption {
      type = types.listOf types.str;
      default = [ ];
      description = "Requirements not taken from nixpkgs in `packages.default` and `checks` (normalised names).";
    };

    dependencies = mkOption {
      type = types.functionTo (types.listOf types.package);
      default = ps: resolve ps (pyproject.project.dependencies or [ ]);
      defaultText = lib.literalMD "`[project] dependencies`, mapped to nixpkgs' Python set";
      description = "Runtime dependencies, as a function of a Python package set.";
    };

    testDependencies = mkOption {
      type = types.functionTo (types.listOf types.package);
      default = ps: resolve ps groupRequirements;
      defaultText = lib.literalMD "`[project.optional-dependencies]`, `[dependency-groups]` and Poetry groups, mapped to nixpkgs' Python set";
      description = "Development and test dependencies, as a function of a Python package set.";
    };

    buildSystem = mkOption {
      type = types.functionTo (types.listOf types.package);
      default = ps: resolve ps (pyproject.build-system.requires or [ "setuptools" ]);
      defaultText = lib.literalMD "`[build-system] requires`, mapped to nixpkgs' Python set";
      description = "Build backend of the project, as a function of a Python package set.";
    };
  };
}
