#!/usr/bin/env bash
# onCreateCommand of riso's own devcontainer: tools beside riso, and nixpkgs' lib for the Nix tests.
set -euo pipefail
cd "$(dirname "$0")/.."
pip install --quiet --disable-pip-version-check poetry uv
# The module-evaluation tests read nixpkgs' lib from RISO_NIXPKGS_LIB (they skip without it).
if lib="$(nix flake prefetch --json github:nix-community/nixpkgs.lib 2>/dev/null \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["storePath"])')"; then
  echo "export RISO_NIXPKGS_LIB=$lib" > "$HOME/.riso-nixpkgs-lib"
  grep -q riso-nixpkgs-lib "$HOME/.bashrc" || echo '. "$HOME/.riso-nixpkgs-lib"' >> "$HOME/.bashrc"
  echo "on-create: RISO_NIXPKGS_LIB=$lib"
else
  echo "on-create: could not fetch nixpkgs.lib; the Nix module tests will skip" >&2
fi
