# riso itself (CLI, runner, pytest plugin), built from nixpkgs' Python set.
#
# `application = true` gives the `riso` command (packages.<system>.riso); `false` gives a
# Python module for a project's own interpreter, so its tests load riso's pytest plugin.
{
  pkgs,
  python ? pkgs.python3,
  application ? true,
}:
let
  inherit (pkgs) lib;
  ps = python.pkgs;
  root = ../.;
  pyproject = builtins.fromTOML (builtins.readFile (root + "/pyproject.toml"));
  # Copier is an application in some nixpkgs releases and a Python module in others.
  copier = ps.copier or (ps.toPythonModule (pkgs.copier.override { python3 = python; }));
  build = if application then ps.buildPythonApplication else ps.buildPythonPackage;
in
build {
  pname = "riso";
  inherit (pyproject.project) version;
  pyproject = true;

  # pyproject.toml, README.md (the readme of the package) and src/ only
  src = lib.cleanSourceWith {
    src = root;
    name = "riso-source";
    filter =
      path: _type:
      let
        rel = lib.removePrefix (toString root + "/") (toString path);
      in
      builtins.elem rel [
        "pyproject.toml"
        "README.md"
      ]
      || rel == "src"
      || lib.hasPrefix "src/" rel;
  };

  build-system = [ ps.poetry-core ];
  dependencies = [
    ps.typer
    ps.rich
    ps.pydantic
    copier
    ps.tomlkit
    ps.psutil
    ps.pyyaml
    ps.python-dotenv
    # pyrage is not in nixpkgs: `riso secrets` uses the age binaries instead (docs/secrets.md).
    # Imported by riso.starters; today it only arrives through copier.
    ps.packaging
  ];

  # Not riso.pytest_plugin: it imports pytest, which the project under test provides.
  pythonImportsCheck = [
    "riso"
    "riso.cli"
  ];

  meta = {
    description = pyproject.project.description;
    license = lib.licenses.mit;
    mainProgram = "riso";
  };
}
