"""`riso secrets`: what it writes is read by the real `age` binary, values never leave unless asked,
and bad input is one line, a non-zero exit and no file changed."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from core_support import RISO, write_project

AGE = shutil.which("age")
KEYGEN = shutil.which("age-keygen")
needs_age = pytest.mark.skipif(AGE is None or KEYGEN is None, reason="age is not on PATH (apt-get install age)")
VALUE = "s3cr3t 'quoted' \\back $HOME # not a comment\nsecond line é"


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str


@dataclass
class Project:
    root: Path
    env: dict[str, str]

    @property
    def key_file(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "sops" / "age" / "keys.txt"

    def riso(self, *args: str, stdin: str = "", env: dict[str, str] | None = None, **options: object) -> Done:
        done = subprocess.run(
            [RISO, "secrets", *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            **options,  # type: ignore[call-overload]
        )
        return Done(done.returncode, done.stdout, done.stderr)

    def age_decrypt(self, environment: str, key_file: Path | None = None) -> str:
        assert AGE is not None
        path = self.root / "secrets" / f"{environment}.env.age"
        identity = key_file or self.key_file
        done = subprocess.run([AGE, "-d", "-i", str(identity), str(path)], capture_output=True, check=True)
        return done.stdout.decode()


def values_of(body: str) -> dict[str, str | None]:
    import io

    from dotenv import dotenv_values

    return dict(dotenv_values(stream=io.StringIO(body), interpolate=False))


def one_line_error(done: Done) -> str:
    assert done.code != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def without_pyrage(folder: Path) -> dict[str, str]:
    """An environment in which `import pyrage` fails (riso's Nix package: nixpkgs has no pyrage)."""
    folder.mkdir(exist_ok=True)
    (folder / "pyrage.py").write_text("raise ImportError('pyrage is absent here')\n")
    return {"PYTHONPATH": str(folder)}


@pytest.fixture(params=["pyrage", pytest.param("age-binary", marks=needs_age)])
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Project:
    """A project with the secrets feature; riso works with pyrage, or with the age binaries only."""
    root = write_project(tmp_path / "demo", ["secrets"])
    env = {k: v for k, v in os.environ.items() if k not in ("AGE_KEY", "AGE_KEY_FILE", "ENVIRONMENT", "RISO_PLAN")}
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "200", "EDITOR": "false"})
    if request.param == "age-binary":
        env.update(without_pyrage(tmp_path / "no-pyrage"))
    return Project(root, env)


@pytest.fixture
def ready(project: Project) -> Project:
    assert project.riso("init").code == 0
    return project


def test_init_makes_a_private_key_once(project: Project) -> None:
    done = project.riso("init")
    assert done.code == 0, done.stderr
    key = project.key_file
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    text = key.read_text()
    recipient = next(line.split(": ")[1] for line in text.splitlines() if line.startswith("# public key: "))
    assert (project.root / "secrets" / "recipients.txt").read_text().splitlines() == [recipient]
    assert "AGE-SECRET-KEY-" not in done.stdout + done.stderr
    again = project.riso("init")
    assert again.code == 0 and "kept the age key" in again.stdout and "already in" in again.stdout
    assert key.read_text() == text  # never overwritten
    assert (project.root / "secrets" / "recipients.txt").read_text().splitlines() == [recipient]


@needs_age
def test_init_reads_a_key_age_keygen_made(project: Project) -> None:
    assert KEYGEN is not None
    project.key_file.parent.mkdir(parents=True)
    subprocess.run([KEYGEN, "-o", str(project.key_file)], capture_output=True, check=True)
    public = subprocess.run([KEYGEN, "-y", str(project.key_file)], capture_output=True, text=True, check=True)
    assert project.riso("init").code == 0
    assert public.stdout.strip() in (project.root / "secrets" / "recipients.txt").read_text()


@needs_age
def test_set_is_read_by_age_and_never_echoed(ready: Project) -> None:
    done = ready.riso("set", "API_TOKEN", "--env", "production", stdin=VALUE + "\n")
    assert done.code == 0, done.stderr
    assert "s3cr3t" not in done.stdout + done.stderr
    assert values_of(ready.age_decrypt("production")) == {"API_TOKEN": VALUE}
    ready.riso("set", "OTHER", "-e", "production", stdin="two")
    assert values_of(ready.age_decrypt("production")) == {"API_TOKEN": VALUE, "OTHER": "two"}


def test_a_value_is_never_taken_from_the_command_line(ready: Project) -> None:
    done = ready.riso("set", "API_TOKEN", "hunter2")
    assert done.code == 2 and "Got unexpected extra argument" in done.stderr
    assert not (ready.root / "secrets" / "local.env.age").exists()


def test_list_shows_names_and_values_only_when_asked(ready: Project) -> None:
    ready.riso("set", "API_TOKEN", "-e", "staging", stdin="hunter2")
    names = ready.riso("list")
    assert names.code == 0 and "API_TOKEN" in names.stdout and "staging" in names.stdout
    assert "hunter2" not in names.stdout + names.stderr
    shown = ready.riso("list", "--show", "--env", "staging")
    assert shown.code == 0 and "hunter2" in shown.stdout


def test_list_reports_declared_secrets_missing(ready: Project) -> None:
    (ready.root / "secrets" / "secrets.toml").write_text(
        '[secrets.DATABASE_URL]\ndescription = "db"\nrequired = ["production"]\n'
        '[secrets.API_TOKEN]\ndescription = "api"\nrequired = ["staging", "production"]\n'
    )
    ready.riso("set", "API_TOKEN", "-e", "production", stdin="x1")
    done = ready.riso("list", "--env", "production")
    assert done.code == 0
    rows = {line.split()[1]: line.split()[2] for line in done.stdout.splitlines()[1:]}
    assert rows == {"API_TOKEN": "set", "DATABASE_URL": "missing"}
    checked = ready.riso("list", "--check")
    assert "2 required secret(s) missing" in one_line_error(checked)  # staging's API_TOKEN too


@needs_age
def test_edit_runs_the_editor_on_a_private_file_and_removes_it(ready: Project, tmp_path: Path) -> None:
    ready.riso("set", "API_TOKEN", "-e", "test", stdin="first")
    record = tmp_path / "record.json"
    editor = tmp_path / "editor.py"
    editor.write_text(
        textwrap.dedent(f"""
        import json, os, stat, sys
        path = sys.argv[1]
        mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)
        text = open(path).read()
        json.dump({{"path": path, "dir": mode(os.path.dirname(path)), "file": mode(path), "text": text}},
                  open({str(record)!r}, "w"))
        open(path, "w").write(text.replace("first", "second") + "ADDED='yes'\\n")
        """)
    )
    done = ready.riso("edit", "--env", "test", env={"EDITOR": f"{sys.executable} {editor}"})
    assert done.code == 0, done.stderr
    seen = json.loads(record.read_text())
    assert seen["dir"] == 0o700 and seen["file"] == 0o600
    assert "API_TOKEN='first'" in seen["text"]
    assert not Path(seen["path"]).parent.exists()  # removed afterwards
    assert values_of(ready.age_decrypt("test")) == {"API_TOKEN": "second", "ADDED": "yes"}
    assert "second" not in done.stdout + done.stderr


def test_edit_without_a_change_leaves_the_file_alone(ready: Project) -> None:
    ready.riso("set", "API_TOKEN", "-e", "test", stdin="first")
    path = ready.root / "secrets" / "test.env.age"
    before = path.read_bytes()
    done = ready.riso("edit", "-e", "test", env={"EDITOR": "true"})
    assert done.code == 0 and "no change" in done.stdout
    assert path.read_bytes() == before  # not even re-encrypted


@pytest.mark.parametrize(
    ("editor", "message"),
    [
        ("false", "the editor exited with status 1; nothing was changed"),
        ('sh -c \'echo "not a pair" >> "$0"\'', "line 3 is not NAME=value"),
        ('sh -c \'echo "lower=case" >> "$0"\'', "'lower' is not a secret name"),
        ("no-such-editor-here", "cannot run the editor 'no-such-editor-here'"),
    ],
    ids=["fails", "bad-line", "bad-name", "missing"],
)
def test_a_bad_edit_changes_nothing(ready: Project, editor: str, message: str) -> None:
    ready.riso("set", "API_TOKEN", "-e", "test", stdin="first")
    path = ready.root / "secrets" / "test.env.age"
    before = path.read_bytes()
    assert message in one_line_error(ready.riso("edit", "-e", "test", env={"EDITOR": editor}))
    assert path.read_bytes() == before


@needs_age
def test_rm_removes_one_secret(ready: Project) -> None:
    ready.riso("set", "A", "-e", "staging", stdin="1")
    ready.riso("set", "B", "-e", "staging", stdin="2")
    assert ready.riso("rm", "A", "-e", "staging").code == 0
    assert values_of(ready.age_decrypt("staging")) == {"B": "2"}
    again = ready.riso("rm", "A", "-e", "staging")
    assert again.code == 1 and "A is not set in secrets/staging.env.age" in again.stderr


@needs_age
def test_files_age_wrote_are_read(ready: Project) -> None:
    assert AGE is not None
    recipient = (ready.root / "secrets" / "recipients.txt").read_text().strip()
    target = ready.root / "secrets" / "production.env.age"
    subprocess.run([AGE, "-r", recipient, "-o", str(target)], input=b"FROM_AGE='yes'\n", check=True)
    shown = ready.riso("list", "--show", "-e", "production")
    assert shown.code == 0 and "FROM_AGE" in shown.stdout and "yes" in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("set", "lower-case"), "'lower-case' is not a secret name"),
        (("set", "API_TOKEN", "--env", "prod"), "unknown environment 'prod'"),
        (("list", "--env", "dev"), "unknown environment 'dev'"),
        (("rm", "9LIVES"), "'9LIVES' is not a secret name"),
    ],
)
def test_bad_input_is_one_line(ready: Project, args: tuple[str, ...], message: str) -> None:
    assert message in one_line_error(ready.riso(*args, stdin="x"))


def test_an_empty_value_is_refused(ready: Project) -> None:
    assert "no value for API_TOKEN" in one_line_error(ready.riso("set", "API_TOKEN", stdin="\n"))
    assert not (ready.root / "secrets" / "local.env.age").exists()


def test_no_key_names_the_fix(project: Project) -> None:
    line = one_line_error(project.riso("set", "API_TOKEN", stdin="x"))
    assert "no age key" in line and "riso secrets init" in line and "AGE_KEY" in line


def test_a_wrong_key_changes_nothing(ready: Project, tmp_path: Path) -> None:
    ready.riso("set", "API_TOKEN", "-e", "production", stdin="hunter2")
    path = ready.root / "secrets" / "production.env.age"
    before = path.read_bytes()
    other = write_project(tmp_path / "other", ["secrets"])
    other_env = {**ready.env, "XDG_CONFIG_HOME": str(tmp_path / "other-config")}
    Project(other, other_env).riso("init")
    wrong = (tmp_path / "other-config" / "sops" / "age" / "keys.txt").read_text()
    for args in (("set", "X", "-e", "production"), ("list", "--show"), ("edit", "-e", "production")):
        done = ready.riso(*args, stdin="y", env={"AGE_KEY": wrong, "EDITOR": "true"})
        line = one_line_error(done)
        assert "cannot decrypt secrets/production.env.age with the key from AGE_KEY" in line
        assert "hunter2" not in done.stdout + done.stderr and "AGE-SECRET-KEY" not in done.stderr
    assert path.read_bytes() == before
    garbage = ready.riso("list", env={"AGE_KEY": "AGE-SECRET-KEY-NOPE"})
    assert "AGE_KEY: line 1 is not an age secret key" in one_line_error(garbage)
    assert "NOPE" not in garbage.stderr


def test_a_key_outside_the_recipients_cannot_write(ready: Project, tmp_path: Path) -> None:
    outsider = tmp_path / "outsider.txt"
    from riso.secrets.keys import create_key

    create_key(outsider)
    done = ready.riso("set", "API_TOKEN", "-e", "local", stdin="x", env={"AGE_KEY_FILE": str(outsider)})
    assert "is not in secrets/recipients.txt" in one_line_error(done)


@needs_age
def test_rekey_lets_a_new_recipient_read(ready: Project, tmp_path: Path) -> None:
    ready.riso("set", "API_TOKEN", "-e", "staging", stdin="hunter2")
    newcomer = tmp_path / "newcomer.txt"
    joined = ready.riso("init", env={"AGE_KEY_FILE": str(newcomer)})
    assert joined.code == 0 and "riso secrets rekey" in joined.stdout
    assert "cannot decrypt" in one_line_error(ready.riso("list", env={"AGE_KEY_FILE": str(newcomer)}))
    assert ready.riso("rekey").code == 0
    assert values_of(ready.age_decrypt("staging", newcomer)) == {"API_TOKEN": "hunter2"}


@needs_age
def test_concurrent_sets_all_land(ready: Project) -> None:
    names = [f"NAME_{i}" for i in range(8)]

    def set_one(name: str) -> int:
        return ready.riso("set", name, "-e", "local", stdin=f"value-{name}").code

    with ThreadPoolExecutor(len(names)) as pool:
        assert list(pool.map(set_one, names)) == [0] * len(names)
    assert values_of(ready.age_decrypt("local")) == {name: f"value-{name}" for name in names}
    assert sorted(p.name for p in (ready.root / "secrets").iterdir()) == ["local.env.age", "recipients.txt"]


def _small_files() -> None:
    """In the child: files may not grow past 2 KiB (as on a full disk, writes fail)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))


@needs_age
def test_a_failed_write_keeps_the_old_file(ready: Project) -> None:
    ready.riso("set", "SMALL", "-e", "local", stdin="small")
    path = ready.root / "secrets" / "local.env.age"
    before = path.read_bytes()
    preexec: Callable[[], None] = _small_files
    done = ready.riso("set", "BIG", "-e", "local", stdin="x" * 8192, preexec_fn=preexec)
    line = one_line_error(done)
    assert "cannot write secrets/local.env.age: File too large; it was left as it was" in line
    assert path.read_bytes() == before
    assert values_of(ready.age_decrypt("local")) == {"SMALL": "small"}
    assert sorted(p.name for p in (ready.root / "secrets").iterdir()) == ["local.env.age", "recipients.txt"]


def test_without_pyrage_or_age_the_commands_say_what_to_install(ready: Project, tmp_path: Path) -> None:
    env = {**without_pyrage(tmp_path / "no-pyrage"), "PATH": str(tmp_path / "empty")}
    line = one_line_error(ready.riso("set", "API_TOKEN", stdin="x", env=env))
    assert "needs the Python package pyrage or the age and age-keygen commands" in line
    assert "install riso with pip or uv" in line
