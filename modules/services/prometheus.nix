# Prometheus: scrapes itself and, with the api feature, the app's /metrics and evaluates the
# project's alert rules; its config file is written into its data dir
# (src/riso/services/prometheus.py).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  common = import ./common.nix { inherit lib; };
  cfg = config.services.prometheus;
  project = config.riso.project;
  # Where the app is scraped: the port of the `app` process when riso runs one (allocated or
  # fixed), else appPort (src/riso/services/prometheus.py, app_target).
  app = config.processes.app or null;
  appListens = app != null && app.enable && app.port != null;
  appTarget = if appListens then "{host}:{port:app}" else "{host}:${toString cfg.appPort}";

  staticConfig = types.submodule {
    options.targets = mkOption {
      type = types.listOf types.str;
      description = "`host:port` targets; placeholders such as `{host}` are expanded by the runner.";
    };
  };

  scrapeConfig = types.submodule {
    options = {
      job_name = mkOption {
        type = types.str;
        description = "Job name.";
      };
      scrape_interval = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "Per-job interval; null = the global `scrapeInterval`.";
      };
      metrics_path = mkOption {
        type = types.nullOr types.str;
        default = null;
        description = "HTTP path of the metrics; null = Prometheus' default `/metrics`.";
      };
      static_configs = mkOption {
        type = types.listOf staticConfig;
        default = [ ];
        description = "Static target groups.";
      };
    };
  };

  renderJob =
    job:
    [ "  - job_name: ${job.job_name}" ]
    ++ lib.optional (job.scrape_interval != null) "    scrape_interval: ${job.scrape_interval}"
    ++ lib.optional (job.metrics_path != null) "    metrics_path: ${job.metrics_path}"
    ++ [ "    static_configs:" ]
    ++ map (
      s: "      - targets: [${lib.concatMapStringsSep ", " (t: "'${t}'") s.targets}]"
    ) job.static_configs;

  configText =
    lib.concatStringsSep "\n" (
      [
        "global:"
        "  scrape_interval: ${cfg.scrapeInterval}"
        "  evaluation_interval: ${cfg.scrapeInterval}"
      ]
      ++ lib.optionals (cfg.ruleFiles != [ ]) (
        [ "rule_files:" ] ++ map (f: "  - '${f}'") cfg.ruleFiles
      )
      ++ [ "scrape_configs:" ]
      ++ lib.concatMap renderJob cfg.scrapeConfigs
    )
    + "\n";

  options = map (s: "--${s.name}=${common.pyStr s.value}") (common.sortedSettings cfg.settings);
in
{
  options.services.prometheus =
    common.mkServiceOptions {
      name = "prometheus";
      what = "Prometheus";
      package = lib.mkPackageOption pkgs "prometheus" { };
    }
    // {
      scrapeInterval = mkOption {
        type = types.str;
        default = "5s";
        description = "Global scrape and evaluation interval (`scrape_interval` in the manifest).";
      };

      appPort = mkOption {
        type = types.ints.between 1 65535;
        default = 8000;
        description = "Where the app serves /metrics when riso does not run it (`app_port` in the manifest); the default port of the `app` process.";
      };

      ruleFiles = mkOption {
        type = types.listOf types.str;
        defaultText = lib.literalMD "the project's `prometheus/*.rules.yml` (its alert rules) when the `api` feature is on";
        description = "Rule files (globs; placeholders such as `{root}` are expanded by the runner) written to `rule_files`.";
      };

      scrapeConfigs = mkOption {
        type = types.listOf scrapeConfig;
        defaultText = lib.literalMD "Prometheus itself, and with the `api` feature the app: at the `app` process's port (`{port:app}`) when riso runs it, else at `{host}:appPort`";
        description = "Scrape jobs written to `prometheus.yml`.";
      };
    };

  config.services.prometheus = {
    ruleFiles = lib.mkOptionDefault (
      lib.optional (builtins.elem "api" config.riso.features) "{root}/prometheus/*.rules.yml"
    );

    scrapeConfigs = lib.mkOptionDefault (
      [
        {
          job_name = "prometheus";
          static_configs = [ { targets = [ "{host}:{port}" ]; } ];
        }
      ]
      ++ lib.optional (builtins.elem "api" config.riso.features) {
        job_name = project.name;
        metrics_path = "/metrics";
        static_configs = [ { targets = [ appTarget ]; } ];
      }
    );

    planEntry = common.entry {
      name = "prometheus";
      package = "prometheus";
      inherit (cfg) port;
      binaries.prometheus = common.bin cfg.package "prometheus";
      data_dir = "{state}/prometheus";
      files = [
        {
          path = "{data_dir}/prometheus.yml";
          content = configText;
        }
      ];
      start = [
        "{bin:prometheus}"
        "--config.file={data_dir}/prometheus.yml"
        "--storage.tsdb.path={data_dir}/data"
        "--web.listen-address={host}:{port}"
      ] ++ options;
      readiness = common.readiness "http" 60 "/-/ready";
      env.PROMETHEUS_URL = "http://{host}:{port}";
      settings = {
        scrape_interval = cfg.scrapeInterval;
        app_port = cfg.appPort;
      } // cfg.settings;
    };
  };
}
