# devcontainer.json as an option tree. Each top-level key of `settings` is set with
# mkDefault, so a module can replace one key or add others and keep the rest.
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  cfg = config.riso.devcontainer;
  features = config.riso.features;
  fixedPorts = lib.concatMap (
    name:
    let
      svc = config.services.${name};
    in
    lib.optional (svc.enable && svc.port != 0) {
      inherit name;
      inherit (svc) port;
    }
  ) config.riso.serviceOrder;
  ports = lib.optional (builtins.elem "api" features) {
    name = "app";
    port = 8000;
  } ++ fixedPorts;

  nixFlavour = {
    image = "mcr.microsoft.com/devcontainers/base:debian";
    features."ghcr.io/devcontainers/features/nix:1".extraNixConfig =
      "experimental-features = nix-command flakes";
    # The store lives in a volume so a rebuilt container keeps it.
    mounts = [ "source=${config.riso.project.name}-nix-store,target=/nix,type=volume" ];
    onCreateCommand = "nix develop --command true";
    postCreateCommand = "nix develop --command poetry install";
    postStartCommand = "nix develop --command riso up -d";
  };
  composeFlavour = {
    dockerComposeFile = [ "../docker-compose.yml" ];
    service = "app";
    workspaceFolder = "/workspace";
    postCreateCommand = "poetry install";
    postStartCommand = "riso up -d --allow-missing";
  };
in
{
  options.riso.devcontainer = {
    flavour = mkOption {
      type = types.enum [
        "compose"
        "nix"
      ];
      default = "compose";
      description = "`nix`: the container enters `nix develop`; `compose`: a Python image beside Compose services (`[tool.riso.devcontainer] flavour`).";
    };

    settings = mkOption {
      type = types.attrsOf types.anything;
      defaultText = lib.literalMD "name, the flavour's image or Compose file, forwarded ports with labels, lifecycle commands and VS Code extensions";
      description = "The content of `.devcontainer/devcontainer.json`.";
    };

    json = mkOption {
      type = types.str;
      readOnly = true;
      defaultText = lib.literalExpression "builtins.toJSON config.riso.devcontainer.settings";
      description = "`settings` as JSON.";
    };
  };

  config.riso.devcontainer = {
    settings = lib.mapAttrs (_: lib.mkDefault) (
      {
        name = config.riso.project.name;
        forwardPorts = map (p: p.port) ports;
        portsAttributes = builtins.listToAttrs (
          map (p: lib.nameValuePair (toString p.port) { label = p.name; }) ports
        );
        customizations.vscode.extensions = [
          "ms-python.python"
          "charliermarsh.ruff"
          "ms-python.mypy-type-checker"
          "jnoortheen.nix-ide"
          "mkhl.direnv"
        ];
      }
      // (if cfg.flavour == "nix" then nixFlavour else composeFlavour)
    );
    json = builtins.toJSON cfg.settings;
  };
}
