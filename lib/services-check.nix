# The pytest check of a project: its tests run in the build sandbox against Postgres and
# Redis started from the store by riso's runner (the plan, restricted to those two), and
# Prometheus' generated configuration checked with `promtool check config`.
{
  pkgs,
  name,
  plan,
  riso,
  packages,
}:
let
  inherit (pkgs) lib;
  started = [
    "postgres"
    "redis"
  ];
  inPlan = map (s: s.name) plan.services;
  # the services only: the tests start the app themselves (its processes are for `riso up`)
  runPlan = plan // {
    services = builtins.filter (s: builtins.elem s.name started) plan.services;
    processes = [ ];
  };
  runNames = map (s: s.name) runPlan.services;
  planFile = pkgs.writeText "${name}-services.json" (builtins.toJSON runPlan);

  # prometheus.yml as the runner writes it, with the loopback address and fixed ports.
  prometheus = builtins.filter (s: s.name == "prometheus") plan.services;
  prometheusConfig = lib.optional (prometheus != [ ]) (
    pkgs.writeText "${name}-prometheus.yml" (
      builtins.replaceStrings
        [
          "{host}"
          "{port}"
        ]
        [
          "127.0.0.1"
          "9090"
        ]
        (builtins.head (builtins.head prometheus).files).content
    )
  );
  promtool = lib.optional (prometheus != [ ]) (lib.getBin packages.prometheus.package);
  servicePackages = map (s: lib.getBin packages.${s}.package) runNames;
in
{
  inherit planFile servicePackages;

  check =
    {
      name,
      env,
      # the project folder, copied to ./project; or null when `prepare` writes ./project
      source,
      prepare ? "",
      extraInputs ? [ ],
      before ? "",
    }:
    pkgs.runCommand name
      {
        nativeBuildInputs = [
          env
          riso
        ]
        ++ extraInputs
        ++ servicePackages
        ++ promtool;
        RISO_PLAN = planFile;
        # macOS sandbox: the services and the tests talk over loopback
        __darwinAllowLocalNetworking = true;
      }
      ''
        export HOME="$TMPDIR"
        ${
          if source == null then
            prepare
          else
            ''
              cp -r ${source} project
              chmod -R u+w project
            ''
        }
        cd project
        ${before}
        ${lib.concatMapStrings (f: "promtool check config ${f}\n") prometheusConfig}
        ${lib.optionalString (runNames != [ ]) ''
          riso up --detach
          eval "$(riso env)"
          trap 'riso down' EXIT
        ''}
        pytest -p no:cacheprovider
        touch $out
      '';

  # services of the plan this check does not start (Grafana: provisioning only)
  notStarted = lib.subtractLists (runNames ++ [ "prometheus" ]) inPlan;
}
