# Grafana: provisioned with datasources (Prometheus by default) and a dashboards folder
# of the project (src/riso/services/grafana.py).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  common = import ./common.nix { inherit lib; };
  cfg = config.services.grafana;

  # Plain YAML scalars, as the Python side writes them; '' for an empty string.
  scalar =
    value:
    if builtins.isBool value then
      (if value then "true" else "false")
    else if value == "" then
      "''"
    else
      toString value;

  datasource = types.submodule {
    options = {
      name = mkOption {
        type = types.str;
        description = "Datasource name.";
      };
      type = mkOption {
        type = types.str;
        description = "Datasource type, e.g. `prometheus`.";
      };
      access = mkOption {
        type = types.enum [
          "proxy"
          "direct"
        ];
        default = "proxy";
        description = "How Grafana reaches it.";
      };
      url = mkOption {
        type = types.str;
        description = "URL; placeholders such as `{port:prometheus}` are expanded by the runner.";
      };
      isDefault = mkOption {
        type = types.bool;
        default = false;
        description = "Whether it is the default datasource.";
      };
    };
  };

  dashboardProvider = types.submodule {
    options = {
      name = mkOption {
        type = types.str;
        description = "Provider name.";
      };
      folder = mkOption {
        type = types.str;
        default = "";
        description = "Grafana folder the dashboards appear in; empty = General.";
      };
      type = mkOption {
        type = types.str;
        default = "file";
        description = "Provider type.";
      };
      path = mkOption {
        type = types.str;
        description = "Folder of dashboard JSON files (`options.path`).";
      };
    };
  };

  # grafana.ini: riso's sections with `settings` merged over them, rendered by
  # lib.generators.toINI (what nixpkgs' formats.ini writes), as the Python side does.
  baseIni = {
    server = {
      http_addr = "{host}";
      http_port = "{port}";
    };
    paths = {
      data = "{data_dir}/data";
      logs = "{data_dir}/logs";
      plugins = "{data_dir}/plugins";
      provisioning = "{data_dir}/provisioning";
    };
    security = {
      admin_user = "admin";
      admin_password = cfg.adminPassword;
    };
    analytics = {
      reporting_enabled = false;
      check_for_updates = false;
    };
  };
  ini = lib.generators.toINI { } (lib.recursiveUpdate baseIni cfg.settings);

  datasourcesYaml = lib.concatStrings (
    [
      "apiVersion: 1\n"
      "datasources:\n"
    ]
    ++ map (d: ''
      ${"  "}- name: ${scalar d.name}
          type: ${scalar d.type}
          access: ${scalar d.access}
          url: ${scalar d.url}
          isDefault: ${scalar d.isDefault}
    '') cfg.datasources
  );

  dashboardsYaml = lib.concatStrings (
    [
      "apiVersion: 1\n"
      "providers:\n"
    ]
    ++ map (p: ''
      ${"  "}- name: ${scalar p.name}
          folder: ${scalar p.folder}
          type: ${scalar p.type}
          options:
            path: ${scalar p.path}
    '') cfg.dashboards
  );
in
{
  options.services.grafana =
    common.mkServiceOptions {
      name = "grafana";
      what = "Grafana";
      package = lib.mkPackageOption pkgs "grafana" { };
    }
    // {
      settings = mkOption {
        type = types.attrsOf (
          types.attrsOf (
            types.oneOf [
              types.str
              types.int
              types.bool
            ]
          )
        );
        default = { };
        example = {
          server.root_url = "http://localhost:3000/grafana/";
        };
        description = "grafana.ini as section -> key -> value, merged over riso's sections (server, paths, security, analytics).";
      };

      adminPassword = mkOption {
        type = types.str;
        default = "admin";
        description = "Password of the `admin` user (`admin_password` in the manifest); local development only.";
      };

      datasources = mkOption {
        type = types.listOf datasource;
        default = [
          {
            name = "Prometheus";
            type = "prometheus";
            url = "http://{host}:{port:prometheus}";
            isDefault = true;
          }
        ];
        description = "Datasources provisioned into `provisioning/datasources/riso.yaml`.";
      };

      dashboards = mkOption {
        type = types.listOf dashboardProvider;
        default = [
          {
            name = "project";
            path = "{root}/grafana/dashboards";
          }
        ];
        description = "Dashboard providers provisioned into `provisioning/dashboards/riso.yaml`.";
      };
    };

  config.services.grafana.planEntry = common.entry {
    name = "grafana";
    package = "grafana";
    inherit (cfg) port settings;
    binaries = {
      grafana = common.bin cfg.package "grafana";
      homepath = "${cfg.package}/share/grafana";
    };
    data_dir = "{state}/grafana";
    files = [
      {
        path = "{data_dir}/grafana.ini";
        content = ini;
      }
      {
        path = "{data_dir}/provisioning/datasources/riso.yaml";
        content = datasourcesYaml;
      }
      {
        path = "{data_dir}/provisioning/dashboards/riso.yaml";
        content = dashboardsYaml;
      }
    ];
    start = [
      "{bin:grafana}"
      "server"
      "--homepath"
      "{bin:homepath}"
      "--config"
      "{data_dir}/grafana.ini"
    ];
    readiness = common.readiness "http" 60 "/api/health";
    env.GRAFANA_URL = "http://{host}:{port}";
    depends_on = [ "prometheus" ];
  };
}
