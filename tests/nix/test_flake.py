"""riso's flake with Debian's Nix, offline: show, templates, init, lock, blueprint flake.

Needs only `nix`; nixpkgs is replaced by the stand-in flake (it cannot be downloaded).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import jinja2
import pytest

from .conftest import REPO, SYSTEMS, input_overrides, nix_json, run_nix

pytestmark = pytest.mark.nix

STARTERS = ("api", "minimal")
CHECKS = {
    "module-tests",
    "plan-parity",
    "formatting",
    "docs",
    "nixpkgs-sources",
    "riso",
    "starter-api",
    "starter-minimal",
}
COMBOS = {
    "combo-" + ("+".join(c) or "none") for c in json.loads((REPO / "modules/features.json").read_text())["combinations"]
}


def override(stub: Path) -> list[str]:
    return ["--override-input", "nixpkgs", f"path:{stub}", *input_overrides(), "--no-write-lock-file"]


def tracked_files(folder: Path) -> dict[str, bytes]:
    """The files git tracks under `folder` (what a flake of the checkout contains)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", str(folder)], cwd=REPO, capture_output=True, check=True, timeout=30
    ).stdout.decode()
    paths = [p for p in listed.split("\0") if p]
    return {str(Path(p).relative_to(folder.relative_to(REPO))): (REPO / p).read_bytes() for p in paths}


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def starter_or_skip(name: str) -> Path:
    folder = REPO / "templates" / name
    if not folder.is_dir() or not tracked_files(folder):
        pytest.skip(f"templates/{name} is not in the checkout yet (rendered by `riso templates sync`)")
    return folder


def test_flake_show_lists_every_output_offline(stub_nixpkgs: Path) -> None:
    shown = nix_json("flake", "show", str(REPO), *override(stub_nixpkgs))
    assert set(shown["templates"]) == {"api", "minimal", "default"}
    assert "Postgres" in shown["templates"]["api"]["description"]
    for system in SYSTEMS:
        assert shown["packages"][system]["riso"]["name"].startswith("riso-")
        assert shown["packages"][system]["default"]["name"] == shown["packages"][system]["riso"]["name"]
        assert shown["devShells"][system]["default"]["name"] == "riso-dev"
        assert set(shown["checks"][system]) == CHECKS | COMBOS
        assert shown["formatter"][system]["type"] == "derivation"
    assert len(COMBOS) == 80  # valid combinations: auth needs api and database
    assert {"lib", "modules", "flakeModules"} <= set(shown)


def test_welcome_texts_give_the_next_three_commands(nix_available: None) -> None:
    api = run_nix("eval", "--raw", f"{REPO}#templates.api.welcomeText").stdout
    minimal = run_nix("eval", "--raw", f"{REPO}#templates.minimal.welcomeText").stdout
    assert re.findall(r"^\d\. `([^`]+)`", api, re.M) == ["nix develop", "riso up", "pytest"]
    assert re.findall(r"^\d\. `([^`]+)`", minimal, re.M) == ["nix develop", "pytest", "riso add database"]
    default = run_nix("eval", "--raw", f"{REPO}#templates.default.description").stdout
    assert default == run_nix("eval", "--raw", f"{REPO}#templates.api.description").stdout


def test_templates_evaluate_to_the_starter_folders(stub_nixpkgs: Path) -> None:
    for name in STARTERS:
        starter_or_skip(name)
    templates = nix_json("eval", f"{REPO}#templates", *override(stub_nixpkgs))
    for name in STARTERS:
        stored = Path(templates[name]["path"])
        # a subfolder of the flake source, or its own store path (`<hash>-api`) from a clean git checkout
        assert stored.name.split("-", 1)[-1] == name and stored.is_dir()
        assert tree(stored) == tracked_files(REPO / "templates" / name)


@pytest.mark.parametrize("name", STARTERS)
def test_flake_init_gives_the_starter_tree(name: str, tmp_path: Path, nix_available: None) -> None:
    folder = starter_or_skip(name)
    target = tmp_path / "new"
    target.mkdir()
    run_nix("flake", "init", "-t", f"{REPO}#{name}", cwd=target)
    # Nix 2.8 copies contents, not modes; paths and bytes must match exactly.
    assert tree(target) == tracked_files(folder)


def test_flake_init_refuses_to_overwrite(tmp_path: Path, nix_available: None) -> None:
    folder = starter_or_skip("minimal")
    first = sorted(tracked_files(folder))[0]
    (tmp_path / first).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / first).write_text("user's own file\n")
    done = run_nix("flake", "init", "-t", f"{REPO}#minimal", cwd=tmp_path, check=False)
    assert done.returncode != 0
    assert (tmp_path / first).read_text() == "user's own file\n"


def test_lock_pins_nixpkgs_to_a_release_branch_revision() -> None:
    lock = json.loads((REPO / "flake.lock").read_text())
    node = lock["nodes"][lock["nodes"]["root"]["inputs"]["nixpkgs"]]
    assert node["original"]["ref"] == "nixos-25.11"
    assert re.fullmatch(r"[0-9a-f]{40}", node["locked"]["rev"])
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", node["locked"]["narHash"])
    assert node["locked"]["lastModified"] > 1_700_000_000
    flake = (REPO / "flake.nix").read_text()
    assert f"github:NixOS/nixpkgs/{node['original']['ref']}" in flake


def render_blueprint_flake(description: str) -> str:
    env = jinja2.Environment(
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined
    )
    source = (REPO / "src/riso/blueprint/project/flake.nix.jinja").read_text()
    return env.from_string(source).render(description=description, riso_flake_url="github:riso-dev/riso")


def test_blueprint_flake_calls_mkflake_with_nixpkgs_follows(tmp_path: Path, nix_available: None) -> None:
    tricky = 'Say "hi" to ${HOME} \\ & <friends>'
    (tmp_path / "flake.nix").write_text(render_blueprint_flake(tricky))
    flake = f"import {tmp_path}/flake.nix"
    inputs = nix_json("eval", "--impure", "--expr", f"({flake}).inputs")
    assert inputs["riso"]["inputs"]["nixpkgs"]["follows"] == "nixpkgs"
    assert inputs["riso"]["url"] == "github:riso-dev/riso"
    assert inputs["nixpkgs"]["url"] == "github:NixOS/nixpkgs/nixos-25.11"
    description = run_nix("eval", "--impure", "--raw", "--expr", f"({flake}).description").stdout
    assert description == tricky
    text = (tmp_path / "flake.nix").read_text()
    assert "riso.lib.mkFlake {\n      inherit inputs;\n      src = ./.;\n    };" in text


def test_every_combination_check_evaluates(stub_nixpkgs: Path, system: str) -> None:
    names = sorted(COMBOS)
    quoted = " ".join(f'"{n}"' for n in names)
    expr = "c: map (n: builtins.unsafeDiscardStringContext c.${n}.drvPath) [ " + quoted + " ]"
    paths = nix_json("eval", f"{REPO}#checks.{system}", "--apply", expr, *override(stub_nixpkgs))
    assert len(paths) == 80 and all(p.startswith("/nix/store/") and p.endswith(".drv") for p in paths)
    assert len(set(paths)) == 80
