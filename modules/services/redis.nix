# Redis: one server on loopback, RDB snapshots in its data dir (src/riso/services/redis.py).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  common = import ./common.nix { inherit lib; };
  cfg = config.services.redis;
  options = lib.concatMap (s: [
    "--${s.name}"
    (common.pyStr s.value)
  ]) (common.sortedSettings cfg.settings);
in
{
  options.services.redis = common.mkServiceOptions {
    name = "redis";
    what = "Redis";
    package = lib.mkPackageOption pkgs "redis" { };
  };

  config.services.redis.planEntry = common.entry {
    name = "redis";
    package = "redis";
    inherit (cfg) port settings;
    binaries."redis-server" = common.bin cfg.package "redis-server";
    data_dir = "{state}/redis";
    start = [
      "{bin:redis-server}"
      "--port"
      "{port}"
      "--bind"
      "{host}"
      "--dir"
      "{data_dir}"
      "--save"
      "60 1"
      "--appendonly"
      "no"
      "--daemonize"
      "no"
    ] ++ options;
    readiness = common.readiness "redis" 30 null;
    env.REDIS_URL = "redis://{host}:{port}/0";
  };
}
