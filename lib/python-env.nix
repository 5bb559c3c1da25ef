# A project's Python environments from its uv.lock, with uv2nix, pyproject.nix and
# pyproject-build-systems (the pattern of uv2nix's templates):
#   app   the app and its runtime dependencies (`packages.default`)
#   test  the app and every dependency group, for `checks.pytest`
#   dev   like test, with the app installed editable from $REPO_ROOT (`nix develop`)
#
# The Nix build reads uv.lock only: a project whose package manager is Poetry (or pip)
# fails at evaluation with one message saying so.
{ inputs }:
{
  pkgs,
  name,
  src,
  python,
  packageManager,
  pyproject,
}:
let
  inherit (pkgs) lib;
  inherit (inputs) uv2nix pyproject-nix pyproject-build-systems;

  lockFile = src + "/uv.lock";
  checked =
    if packageManager != "uv" then
      throw "riso: the Nix build installs from uv.lock, and this project's package manager is ${packageManager}: set [tool.riso] package_manager = \"uv\" and run `uv lock` (docs/nix.md, Python from the lock)"
    else if !builtins.pathExists lockFile then
      throw "riso: ${toString src} has no uv.lock: run `uv lock` there and commit it"
    else
      src;

  # What building the app reads: a README or docs edit does not rebuild it. The readme
  # is included only when [project] names it (the build backend reads it then).
  # (lib.cleanSourceWith, not lib.fileset: it works with every Nix version.)
  readme = pyproject.project.readme or null;
  kept = [
    "pyproject.toml"
    "uv.lock"
  ]
  ++ lib.optional (builtins.isString readme) readme;
  appSource = lib.cleanSourceWith {
    src = checked;
    name = "${name}-source";
    filter =
      path: _type:
      let
        rel = lib.removePrefix (toString checked + "/") (toString path);
      in
      builtins.elem rel kept || rel == "src" || lib.hasPrefix "src/" rel;
  };

  workspace = uv2nix.lib.workspace.loadWorkspace { workspaceRoot = checked; };
  overlay = workspace.mkPyprojectOverlay { sourcePreference = "wheel"; };
  appName = lib.toLower (
    builtins.replaceStrings
      [
        "_"
        "."
      ]
      [
        "-"
        "-"
      ]
      pyproject.project.name
  );
  # the app is built from the filtered source (uv2nix's documented override)
  appSourceOverlay = _final: prev: {
    ${appName} = prev.${appName}.overrideAttrs (_: {
      src = appSource;
    });
  };
  editableOverlay = workspace.mkEditablePyprojectOverlay { root = "$REPO_ROOT"; };

  baseSet = pkgs.callPackage pyproject-nix.build.packages { inherit python; };
  pythonSet = baseSet.overrideScope (
    lib.composeManyExtensions [
      pyproject-build-systems.overlays.wheel
      overlay
    ]
  );
  appSet = pythonSet.overrideScope appSourceOverlay;
  editableSet = pythonSet.overrideScope editableOverlay;
in
{
  inherit workspace pythonSet editableSet;
  app = appSet.mkVirtualEnv "${name}-env" workspace.deps.default;
  test = appSet.mkVirtualEnv "${name}-test-env" workspace.deps.all;
  dev = editableSet.mkVirtualEnv "${name}-dev-env" workspace.deps.all;
}
