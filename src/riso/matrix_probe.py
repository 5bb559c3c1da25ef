"""Imports every module of many rendered projects, and validates their compose/devcontainer files.

Run as a script by the matrix inside its shared static environment (it needs only jsonschema, json5 and
PyYAML there, not riso): `python -P matrix_probe.py < jobs.json > results.json`. One process for every
combination, so the heavy dependencies (FastAPI, SQLAlchemy, ...) are imported once; each project's
package is dropped from `sys.modules` before the next one is imported.

jobs.json: {"schemas": {"compose": path, ...}, "jobs": [{"label", "root", "package", "imports": bool,
"files": [[relative path, schema name], ...]}]}; results.json: {label: {"imports": text, "schemas": text}}
where an empty text means the check passed.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any


def _load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yml", ".yaml"):
        import yaml

        return yaml.safe_load(text)
    import json5

    return json5.loads(text)  # devcontainer.json is JSON with comments


def check_schemas(root: Path, files: list[list[str]], schemas: dict[str, Any]) -> str:
    from jsonschema import Draft7Validator, Draft201909Validator  # type: ignore[import-untyped]

    drafts = {"compose": Draft7Validator, "devcontainer": Draft201909Validator}  # as their $schema says

    problems: list[str] = []
    for relative, schema_name in files:
        schema = schemas[schema_name]
        try:
            document = _load(root / relative)
        except Exception as error:
            problems.append(f"{relative}: cannot be parsed: {error}")
            continue
        validator = drafts.get(schema_name, Draft7Validator)(schema)
        for violation in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.path])[:3]:
            where = "/".join(str(p) for p in violation.path) or "(top)"
            problems.append(f"{relative}: {where}: {violation.message} ({schema_name} schema)")
    return "\n".join(problems)


def check_imports(root: Path, package: str) -> str:
    src = root / "src"
    modules = sorted(
        ".".join(p.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        for p in (src / package).rglob("*.py")
        if p.name != "__main__.py"  # runs the program when imported: `python -m` is its only use
    )
    sys.path.insert(0, str(src))
    problems: list[str] = []
    try:
        for name in modules:
            try:
                importlib.import_module(name)
            except BaseException as error:  # a module may call sys.exit at import time: a failure too
                last = traceback.format_exception_only(type(error), error)[-1].strip()
                problems.append(f"import {name}: {last}")
    finally:
        sys.path.remove(str(src))
        for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[loaded]
        importlib.invalidate_caches()
    return "\n".join(problems)


def main() -> int:
    request = json.load(sys.stdin)
    schemas = {name: json.loads(Path(path).read_text(encoding="utf-8")) for name, path in request["schemas"].items()}
    results: dict[str, dict[str, str]] = {}
    for job in request["jobs"]:
        root = Path(job["root"])
        results[job["label"]] = {
            "imports": check_imports(root, job["package"]) if job["imports"] else "",
            "schemas": check_schemas(root, job["files"], schemas),
        }
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
