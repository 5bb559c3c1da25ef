"""What `features.py` says, written where the other parts read it.

`features.py` is the one list of features. Two files repeat it for readers that cannot import
Python, and `riso templates sync` rewrites both (`--check` reports them stale):

- the blueprint's `copier.yml`, between `# riso:features:begin` and `# riso:features:end`: the
  `features` question's choices and the computed `services` the chosen features bring (so plain
  `copier copy` knows them too);
- `modules/features.json` in riso's repository: feature -> services, the service order and every
  valid combination, read by the Nix modules and riso's flake checks.
"""

from __future__ import annotations

import json
from pathlib import Path

from riso import features
from riso.errors import RisoError

BEGIN = "# riso:features:begin"
END = "# riso:features:end"


def copier_block() -> str:
    """The generated part of copier.yml, markers included."""
    choices = "".join(f"    {name}: {name}\n" for name in sorted(features.FEATURES))
    table = json.dumps({name: list(f.services) for name, f in sorted(features.FEATURES.items())})
    order = json.dumps(list(features.SERVICE_ORDER))
    return (
        f"{BEGIN}\n"
        "# Written from src/riso/features.py by `riso templates sync` (checked by `--check`): edit that.\n"
        "features:\n"
        "  type: str\n"
        "  help: Features (any subset)\n"
        "  multiselect: true\n"
        "  choices:\n"
        f"{choices}"
        "  default: [api]\n"
        f"{_validator()}"
        "\n"
        "# The services the chosen features bring, in start order (computed, never asked or recorded).\n"
        "services:\n"
        "  type: yaml\n"
        "  when: false\n"
        "  default: >-\n"
        f"    {{% set table = {table} %}}\n"
        "    {% set wanted = [] %}\n"
        "    {% for feature in features %}{% set _ = wanted.extend(table[feature]) %}{% endfor %}\n"
        f'    {{{{ {order} | select("in", wanted) | list | tojson }}}}\n'
        f"{END}\n"
    )


def _validator() -> str:
    """The `features` question's validator: features.py's requires and conflicts, for plain
    `copier copy` (riso validates before it renders)."""
    rules = [
        f"{{% if '{name}' in features and '{need}' not in features %}}feature '{name}' requires '{need}' {{% endif %}}"
        for name, f in sorted(features.FEATURES.items())
        for need in f.requires
    ] + [
        f"{{% if '{name}' in features and '{other}' in features %}}"
        f"features '{name}' and '{other}' conflict {{% endif %}}"
        for name, f in sorted(features.FEATURES.items())
        for other in f.conflicts
    ]
    if not rules:
        return ""
    return "  validator: >-\n" + "".join(f"    {rule}\n" for rule in rules)


def nix_json() -> str:
    """modules/features.json."""
    data = {
        "features": {name: list(f.services) for name, f in sorted(features.FEATURES.items())},
        "requires": {name: list(f.requires) for name, f in sorted(features.FEATURES.items()) if f.requires},
        "conflicts": {name: list(f.conflicts) for name, f in sorted(features.FEATURES.items()) if f.conflicts},
        "serviceOrder": list(features.SERVICE_ORDER),
        "combinations": [list(c) for c in features.valid_combinations()],
    }
    return json.dumps(data, indent=2) + "\n"


def _with_block(text: str, where: Path) -> str:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise RisoError(f"{where} has no {BEGIN} ... {END} block", "restore the markers around `features:`")
    return text[:start] + copier_block() + text[end + len(END) + 1 :]


def sync_copier(blueprint: Path, *, check: bool = False) -> bool:
    """Rewrite the block in `blueprint`/copier.yml; return whether it was (or, with `check`, is) stale."""
    path = blueprint / "copier.yml"
    text = path.read_text(encoding="utf-8")
    wanted = _with_block(text, path)
    if wanted == text:
        return False
    if not check:
        path.write_text(wanted, encoding="utf-8")
    return True
