"""Executes a service plan: ports, data dirs, start order, readiness, hooks, status, stop.

    r = Runner(plan, root)        # state in root/.riso/
    r.up()                        # start what is not running (daemonised), wait until ready, run hooks
    r.status(); r.env(); r.down()

Independent services start in parallel (one thread each, waiting for their `depends_on`). Riso
touches only what is provably this project's (docs/runner.md has the whole contract):

- each data dir holds an ownership marker (`.riso-owner`: this project's folder and a random id);
  data whose marker names another folder is never adopted, started, signalled or deleted;
- a process is this project's service only when pid, start time, executable, working folder (its
  data dir) and port agree with `.riso/run/<name>.pid`; without a record, the service's processes
  are found from its data dir (so a lost pid file never leads to a second server on one data dir);
- a start is crash-safe: the intent is recorded, init runs in a temporary folder renamed into
  place once complete, the pid is recorded (or the server stopped at once), then the setup hooks
  run and their completion is stamped; a killed start is finished or redone by the next `up`.

The library raises RisoError; it never prints.

Running as root: Postgres refuses to run as root, so a service with `needs_unprivileged_user` runs
as the system user `riso` (created once with useradd; `nobody` when that is impossible), and its
data dir is given to that user. That user must also be able to *reach* the data dir and its socket
dir. A project under /root (mode 700), or in pytest's private temp folders, is not reachable by
anyone else, and opening it up (chmod o+x on the user's home) is not riso's call to make. So then the
data lives in /var/lib/riso/<hash of the project path>/<service> and `.riso/state/<service>` is a
symlink to it (`riso down --volumes` removes both); its sockets go to /var/lib/riso/<hash>/run.
Everything else (logs, pid files, ports) stays in the project: riso opens those files itself.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from riso.errors import RisoError
from riso.runner import envfile, hooks, probes, process
from riso.runner.logs import tail
from riso.runner.placeholders import HOST, Context
from riso.runner.processes import RESTARTING, Found, Launch, Processes, environment, resolve
from riso.runner.state import (
    Layout,
    PidRecord,
    StateError,
    clear_intent,
    clear_setup_stamp,
    clear_up,
    project_lock,
    read_intent,
    read_owner,
    read_pid,
    read_ports,
    read_process,
    read_setup_stamp,
    read_status,
    read_up,
    recorded_processes,
    recorded_services,
    remove_pid,
    write_intent,
    write_owner,
    write_pid,
    write_ports,
    write_setup_stamp,
    write_text,
    write_up,
)

if TYPE_CHECKING:  # the models load pydantic; the runner only reads them
    from riso.plan_model import Plan, Process, Service

# Where data of a root-run, privilege-dropped service goes when the project folder is not
# reachable by the unprivileged user (e.g. a project under /root, mode 700). `.riso/state/<name>`
# then is a symlink to it.
RELOCATED = Path("/var/lib/riso")
# sun_path is 108 bytes; Postgres appends "/.s.PGSQL.<port>".
SOCKET_PATH_MAX = 107 - len("/.s.PGSQL.65535")
# Characters a socket dir may hold as given: Postgres splits unix_socket_directories on commas and
# reads quotes and spaces specially, so any other path gets a short private dir under /tmp.
SAFE_SOCKET_PATH = re.compile(r"[A-Za-z0-9/._+-]+")
INIT_PREFIX = ".init-"  # `<parent>/.<name>.init-<random>`: an init under way, renamed when done

RUNNING, STOPPED, CRASHED, MISSING = "running", "stopped", "crashed", "missing"


@dataclass
class ServiceStatus:
    """A service's or a process's state; for a process, `pid` is its program's (not the supervisor's)."""

    name: str
    pid: int | None
    port: int | None
    state: str  # running | stopped | crashed | missing | restarting (processes)
    healthy: bool
    kind: str = "service"  # service | process
    restarts: int | None = None  # processes: restarts by the supervisor since `riso up`

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class UpResult:
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why (missing binary)


@dataclass
class _Prepared:
    """A service about to start: its expanded templates and where it lives."""

    svc: Service
    ctx: Context
    data_dir: Path
    socket_dir: str | None
    port: int
    user: process.Credentials | None


def port_free(port: int) -> bool:
    # SO_REUSEADDR like the servers themselves: a port in TIME_WAIT counts as free.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port(taken: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port not in taken:
            return port


def _is_empty(folder: Path) -> bool:
    try:
        return next(folder.iterdir(), None) is None
    except FileNotFoundError:
        return True


class Runner:
    def __init__(self, plan: Plan, root: Path, allow_missing: bool = False, lock_timeout: float = 120.0) -> None:
        self.plan = plan
        self.root = Path(root).resolve()
        self.layout = Layout(self.root)
        self.allow_missing = allow_missing
        self.lock_timeout = lock_timeout
        self._cancel = threading.Event()
        self.warnings: list[str] = []  # what could not be recorded (a read-only `.riso/`), for the CLI
        self.processes = Processes(self.layout, self.root, self.warnings)

    # --- the plan --------------------------------------------------------------------------

    def service(self, name: str) -> Service:
        try:
            return self.plan.service(name)
        except KeyError:
            known = ", ".join(s.name for s in self.plan.services) or "none"
            raise RisoError(f"unknown service {name!r}", f"this project's services: {known}") from None

    def _process(self, name: str) -> Process | None:
        try:
            return self.plan.process(name)
        except KeyError:
            return None

    def _known(self, name: str) -> None:
        """Raise naming every service and process when `name` is neither."""
        if name in self._names:
            return
        if not self.plan.processes:
            self.service(name)  # "unknown service ..."
        services = ", ".join(s.name for s in self.plan.services) or "none"
        processes = ", ".join(p.name for p in self.plan.processes) or "none"
        raise RisoError(
            f"unknown service or process {name!r}", f"this project's services: {services}; processes: {processes}"
        )

    @property
    def _names(self) -> list[str]:
        return [s.name for s in self.plan.services] + [p.name for p in self.plan.processes]

    @functools.cached_property
    def process_order(self) -> list[Process]:
        """The plan's processes, dependencies first (they come after every service)."""
        return _dependencies_first(self.plan.processes, {s.name for s in self.plan.services})

    def _selection(self, names: list[str] | None, services_only: bool) -> tuple[list[Service], list[Process]]:
        """What `riso up [NAME...]` starts: the named services and processes (all by default) and
        everything they depend on, dependencies first; no process with `services_only`."""
        if not names:
            return list(self.order), [] if services_only else list(self.process_order)
        wanted: set[str] = set()
        pending = list(names)
        while pending:
            name = pending.pop()
            self._known(name)
            if name not in wanted:
                wanted.add(name)
                proc = self._process(name)
                pending.extend(proc.depends_on if proc is not None else self.service(name).depends_on)
        services = [s for s in self.order if s.name in wanted]
        processes = [] if services_only else [p for p in self.process_order if p.name in wanted]
        return services, processes

    @functools.cached_property
    def order(self) -> list[Service]:
        """The plan's services, dependencies first (the plan's own order where it allows)."""
        return _dependencies_first(self.plan.services, set())

    @staticmethod
    def missing_binary(svc: Service) -> str | None:
        """The first binary of `svc` that is absent on this machine, or None."""
        for name, path in svc.binaries.items():
            if path is None or not os.path.exists(path):
                return name
        return None

    def _skip_missing(self, services: list[Service]) -> dict[str, str]:
        """Services left out (allowed only with allow_missing); raises naming the first otherwise."""
        skipped: dict[str, str] = {}
        for svc in services:
            binary = self.missing_binary(svc)
            blocked = next((d for d in svc.depends_on if d in skipped), None)
            if binary is not None:
                from riso.services import INSTALL_HINTS  # only when a binary is missing: it loads every plan builder

                hint = INSTALL_HINTS.get(svc.name, "install it, or use `nix develop`")
                if not self.allow_missing:
                    skip = "or pass --allow-missing to go on without it"
                    raise RisoError(f"{svc.name}: binary {binary!r} not found", f"{hint}; {skip}")
                skipped[svc.name] = f"{binary!r} not found ({hint})"
            elif blocked is not None:
                skipped[svc.name] = f"needs {blocked}, which is skipped"
        return skipped

    # --- ports -----------------------------------------------------------------------------

    def _listeners(self) -> list[tuple[str, int]]:
        """(name, port in the plan) of every service, and of every process that listens."""
        found = [(s.name, s.port) for s in self.plan.services]
        return found + [(p.name, p.port) for p in self.plan.processes if p.port is not None]

    def _ports(self, allocate: bool) -> dict[str, int]:
        """Fixed ports from the plan, allocated ones remembered in `.riso/run/ports.json`."""
        remembered = read_ports(self.layout)
        ports: dict[str, int] = {}
        listeners = self._listeners()
        for name, fixed in listeners:
            if fixed:
                ports[name] = fixed
            elif name in remembered:
                ports[name] = remembered[name]
        if allocate and any(name not in ports for name, _ in listeners):
            taken = set(ports.values()) | set(remembered.values())
            for name, _ in listeners:
                if name not in ports:
                    ports[name] = remembered[name] = _free_port(taken)
                    taken.add(ports[name])
            write_ports(self.layout, remembered)
        return ports

    def _claim_ports(self, wanted: list[tuple[str, int, str]], ports: dict[str, int]) -> None:
        """Fail on a busy fixed port; move an allocated one that something else took meanwhile.
        `wanted`: (name, port in the plan, manifest table) of what is about to start."""
        remembered = read_ports(self.layout)
        moved = False
        for name, fixed, table in wanted:
            port = ports[name]
            if port_free(port):
                continue
            if fixed:
                raise RisoError(
                    f"port {port} for {name} is already in use by another process",
                    f"stop what listens on {port}, or set port = 0 under [tool.riso.{table}.{name}] "
                    "so riso picks a free one",
                )
            ports[name] = remembered[name] = _free_port(set(ports.values()))
            moved = True
        if moved:
            write_ports(self.layout, remembered)

    # --- where a service lives -------------------------------------------------------------

    def _context(self, svc: Service, ports: dict[str, int]) -> Context:
        return self._placeholders(svc.name, ports, svc.binaries)

    def _placeholders(
        self, name: str, ports: dict[str, int], binaries: Mapping[str, str | None] | None = None
    ) -> Context:
        """What the plan's placeholders expand to for service or process `name`."""
        lay = self.layout
        return Context(
            service=name,
            root=str(self.root),
            state=str(lay.state),
            run=str(lay.run),
            logs=str(lay.logs),
            ports=ports,
            binaries=binaries or {},
        )

    def _default_dirs(self, svc: Service, ctx: Context) -> tuple[Path, str | None]:
        data_dir = Path(ctx.expand(svc.data_dir))
        socket_dir = ctx.with_dirs(str(data_dir), None).expand(svc.socket_dir) if svc.socket_dir else None
        return data_dir, socket_dir

    @functools.cached_property
    def _key(self) -> str:
        """A short name for this project outside it (relocated data, short socket dirs)."""
        import hashlib  # loads OpenSSL: only on the paths that need it

        return hashlib.sha256(str(self.root).encode()).hexdigest()[:16]

    def data_dir(self, svc: Service) -> Path:
        """The data dir as the plan names it (a symlink when relocated, see RELOCATED)."""
        return Path(self._context(svc, {}).expand(svc.data_dir))

    def _home(self, svc: Service) -> str:
        """The data dir with symlinks resolved: where the service's processes work."""
        return process.real(self.data_dir(svc))

    def _executable(self, svc: Service) -> str | None:
        """The resolved path of the program the service's start command runs."""
        try:
            program = self._context(svc, {}).expand(svc.start[0]) if svc.start else None
        except RisoError:
            return None
        found = shutil.which(program) if program else None
        return process.real(found) if found else None

    def _private(self, name: str) -> Path:
        return RELOCATED / self._key / name

    def _unprivileged_dirs(self, svc: Service, link: Path, user: process.Credentials) -> tuple[Path, str]:
        """Data and socket dirs the dropped user can reach; relocated when the project is not reachable."""
        if link.is_symlink():
            real, relocated = link.resolve(), True
            real.mkdir(parents=True, exist_ok=True)
        elif link.exists():
            real, relocated = link, False
            if not process.can_traverse(link.parent, user):
                raise RisoError(
                    f"{svc.name}: user {user.name} cannot reach {link}",
                    f"let it through (chmod o+x on each parent folder), or move {link} to "
                    f"{self._private(svc.name)} and leave a symlink in its place",
                )
        elif process.can_traverse(link.parent, user):
            real, relocated = link, False
            real.mkdir(mode=0o700)
        else:
            real, relocated = self._private(svc.name), True
            real.mkdir(parents=True, exist_ok=True)
            os.chmod(real.parent, 0o755)
            write_text(real.parent / "project", f"{self.root}\n")
            link.symlink_to(real, target_is_directory=True)
        os.chmod(real, 0o700)
        process.chown_tree(real, user)
        sockets = self._private("run") if relocated else self.layout.run / svc.name
        sockets.mkdir(parents=True, exist_ok=True)
        if sockets.is_symlink():
            raise StateError(f"{sockets} is a symlink", f"remove {sockets}, then run `riso up` again")
        os.chown(sockets, user.uid, user.gid, follow_symlinks=False)
        return real, str(sockets)

    def _short_socket_dir(self, socket_dir: str, owner: int) -> str:
        """A socket dir Postgres can use as given: short enough for sun_path, no comma or quote.

        Otherwise a fresh private folder under /tmp (mkdtemp: random name, mode 700, never an
        existing path or a planted symlink), given to the service user; removed on stop.
        """
        if len(socket_dir) <= SOCKET_PATH_MAX and SAFE_SOCKET_PATH.fullmatch(socket_dir):
            return socket_dir
        import tempfile

        base = os.environ.get("TMPDIR") or "/tmp"
        if not SAFE_SOCKET_PATH.fullmatch(base) or len(base) > SOCKET_PATH_MAX - 40:
            base = "/tmp"
        short = tempfile.mkdtemp(prefix=f"riso-{self._key}-", dir=base)
        if process.is_root() and owner != 0:
            os.chown(short, owner, -1, follow_symlinks=False)
        return short

    def _is_short_socket_dir(self, path: str | None) -> bool:
        return path is not None and Path(path).name.startswith(f"riso-{self._key}-")

    def _prepare(self, svc: Service, ports: dict[str, int]) -> _Prepared:
        ctx = self._context(svc, ports)
        data_dir, socket_dir = self._default_dirs(svc, ctx)
        self._check_data_dir(svc, data_dir)
        user = None
        if svc.needs_unprivileged_user and process.is_root():
            user = process.service_user()
            data_dir, socket_dir = self._unprivileged_dirs(svc, data_dir, user)
        else:
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if socket_dir:
                Path(socket_dir).mkdir(parents=True, exist_ok=True)
        if socket_dir:
            socket_dir = self._short_socket_dir(socket_dir, user.uid if user else os.geteuid())
        if svc.readiness.type == "postgres":  # every process of the cluster is stopped by now
            _clear_stale_postgres_locks(data_dir, socket_dir, self._executable(svc))
        ctx = ctx.with_dirs(str(data_dir), socket_dir)
        return _Prepared(svc, ctx, data_dir, socket_dir, ports[svc.name], user)

    # --- ownership ---------------------------------------------------------------------------

    def _inside(self, path: Path) -> bool:
        """Whether `path` (resolved) is physically inside this project folder."""
        return Path(process.real(path)).is_relative_to(self.root)

    def _foreign_owner(self, svc: Service, data_dir: Path) -> str | None:
        """The other project folder `data_dir` belongs to, or None when it is this project's (or new).

        A data dir physically inside this folder is this project's even when its marker names
        another folder (a copy made with `cp -a`). Data reached through a symlink is another
        project's when its marker says so, or, for data made before markers, when it lies in
        another project's relocated folder (whose `project` file names that project).
        """
        if not data_dir.exists() or self._inside(data_dir):
            return None
        owner = read_owner(data_dir)
        if owner is not None:
            return None if owner.project == str(self.root) else owner.project
        real = Path(process.real(data_dir))
        if not real.is_relative_to(RELOCATED) or real.is_relative_to(RELOCATED / self._key):
            return None
        named = RELOCATED / real.relative_to(RELOCATED).parts[0] / "project"
        try:
            project = named.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            project = ""
        return None if project == str(self.root) else (project or f"another project ({real})")

    def _refuse_foreign(self, svc: Service, data_dir: Path) -> None:
        other = self._foreign_owner(svc, data_dir)
        if other is not None:
            shown = self.layout.relative(data_dir)
            raise StateError(
                f"{svc.name}: data dir {shown} leads to {process.real(data_dir)}, which belongs to project {other}",
                f"riso leaves it alone; remove the link ({shown}) to start this copy with empty data",
            )

    def _check_data_dir(self, svc: Service, data_dir: Path) -> None:
        """Refuse (with the fix, deleting nothing) a data dir that cannot be this service's."""
        shown = self.layout.relative(data_dir)
        keep = "move it away (or delete it with `riso down --volumes`); riso never deletes data for you"
        if data_dir.is_symlink() and not data_dir.exists():
            return  # recreated at the symlink's target
        self._refuse_foreign(svc, data_dir)
        if data_dir.exists() and not data_dir.is_dir():
            raise StateError(f"{svc.name}: data dir {shown} is not a directory", keep)
        if svc.readiness.type == "postgres" and not _is_empty(data_dir) and not _complete_cluster(data_dir):
            if read_intent(self.layout, svc.name) == str(data_dir) and read_owner(data_dir) is None:
                return  # a start of ours was killed while initialising it in place: redone
            why = "no PG_VERSION" if not (data_dir / "PG_VERSION").is_file() else "incomplete: no global/pg_control"
            raise StateError(f"{svc.name}: data dir {shown} is not a Postgres cluster ({why})", keep)

    @staticmethod
    def _half_made(svc: Service, data_dir: Path) -> bool:
        """A Postgres data dir an interrupted in-place init left (no marker, no control file)."""
        return (
            svc.readiness.type == "postgres"
            and not _is_empty(data_dir)
            and read_owner(data_dir) is None
            and not _complete_cluster(data_dir)
        )

    # --- identity: is a recorded or found process this project's service? ---------------------

    def _identity(self, svc: Service | None, record: PidRecord) -> process.Identity | None:
        """The record as an Identity, or None when it cannot be this project's (copied, foreign)."""
        home = process.real(record.data_dir)
        if svc is not None:
            if home != self._home(svc) or self._foreign_owner(svc, self.data_dir(svc)) is not None:
                return None
            executable = record.executable or self._executable(svc)
            search = self._searchable(svc)
        else:  # a service no longer in the plan: its data dir must still be this project's
            state = Path(process.real(self.layout.state))
            search = Path(home).is_relative_to(state) or Path(home).is_relative_to(RELOCATED / self._key)
            if not search and not Path(home).is_relative_to(self.root):
                return None
            executable = record.executable
        return process.Identity(record.pid, record.start_time, executable, home, record.port, search)

    def _searchable(self, svc: Service) -> bool:
        """Whether processes may be looked for by this service's data dir: it exists, is this
        project's, and lies in `.riso/state` or this project's relocated folder (a plan naming a
        broader folder, such as the project root, would match the user's own programs)."""
        data_dir = self.data_dir(svc)
        if not data_dir.is_dir() or self._foreign_owner(svc, data_dir) is not None:
            return False
        home = Path(self._home(svc))
        state = Path(process.real(self.layout.state))
        return (home.is_relative_to(state) and home != state) or home.is_relative_to(RELOCATED / self._key)

    def _find_unrecorded(self, svc: Service) -> PidRecord | None:
        """A running server of this service that has no (valid) record: found from its data dir."""
        data_dir = self.data_dir(svc)
        executable = self._executable(svc)
        if executable is None or not self._searchable(svc):
            return None
        found = process.find(self._home(svc), {executable})
        # The server is the one that listens: children that outlived it (Postgres backends after a
        # kill -9 of the postmaster) close the listening sockets, and are leftovers, not a server.
        listening = {p: process.listening_ports(p) for p in found}
        servers = [p for p, ports in listening.items() if ports]
        if not servers:
            return None
        main = _postmaster_pid(data_dir)
        if main not in servers:
            main = min(servers, key=lambda p: (found[p], p))  # the oldest: the parent of the others
        ports = listening[main] or set()
        remembered = svc.port or read_ports(self.layout).get(svc.name)
        port = remembered if remembered in ports or not ports else min(ports)
        if port is None:
            return None
        return PidRecord(
            pid=main,
            start_time=found[main],
            port=port,
            data_dir=self._home(svc),
            socket_dir=None,
            executable=executable,
        )

    def _state(self, name: str) -> tuple[str, PidRecord | None]:
        """running (a record, or a found process, that is provably this service), crashed
        (a record whose process is gone) or stopped. A record naming another process is ignored."""
        record = read_pid(self.layout, name)
        try:
            svc: Service | None = self.plan.service(name)
        except KeyError:
            svc = None
        if record is not None:
            ident = self._identity(svc, record)
            if ident is not None and ident.matches() and ident.listens():
                return RUNNING, record
        found = self._find_unrecorded(svc) if svc is not None else None
        if found is not None:
            with contextlib.suppress(OSError):
                write_pid(self.layout, name, found)
            return RUNNING, found
        if record is not None and self._identity(svc, record) is not None:
            return CRASHED, record
        return STOPPED, None

    def state_of(self, name: str) -> tuple[str, PidRecord | None]:
        """A service's state (running, crashed, stopped) and the record of its process."""
        return self._state(name)

    def _forget(self, name: str) -> None:
        """Remove a record; a read-only or full `.riso/run` is noted, not fatal (stale records are
        harmless: every later use checks the identity again)."""
        try:
            remove_pid(self.layout, name)
        except OSError as problem:
            self.warnings.append(
                f"could not remove {self.layout.relative(self.layout.pid_file(name))}: {problem.strerror}"
            )

    # --- up --------------------------------------------------------------------------------

    def up(self, services: list[str] | None = None, services_only: bool = False) -> UpResult:
        """Start what is not running (with dependencies), wait until ready, run post_start hooks;
        then the processes (all, or those named, or none with `services_only`).

        Idempotent: running services are left alone (their setup hooks run if they never finished).
        Raises RisoError naming the service or process.
        """
        wanted, procs = self._selection(services, services_only)
        self.layout.ensure()
        with project_lock(self.layout, self.lock_timeout):
            result = UpResult(skipped=self._skip_missing(wanted))
            wanted = [s for s in wanted if s.name not in result.skipped]
            result.skipped.update(self._skip_processes(procs, result.skipped))
            procs = [p for p in procs if p.name not in result.skipped]
            expected_before = read_up(self.layout)  # every state file is read before anything starts
            for svc in wanted:
                read_setup_stamp(self.layout, svc.name)
                read_intent(self.layout, svc.name)
            for proc in procs:
                read_process(self.layout, proc.name)
                read_status(self.layout, proc.name)
            ports = self._ports(allocate=True)
            todo: list[Service] = []
            running: list[tuple[Service, PidRecord]] = []
            for svc in wanted:
                self._refuse_foreign(svc, self.data_dir(svc))
                state, record = self._state(svc.name)
                if state == RUNNING and record is not None:
                    ports[svc.name] = record.port
                    result.already_running.append(svc.name)
                    running.append((svc, record))
                    continue
                if record is not None:  # crashed: clear what is left of it, keep its data
                    ident = self._identity(svc, record)
                    if ident is not None:
                        process.kill_leftovers(ident)
                    remove_pid(self.layout, svc.name)
                self._clear_leftovers(svc)
                todo.append(svc)
            try:
                env = self._env(ports)
                for svc, record in running:
                    self._finish_setup(svc, record, ports, env)
                if todo:
                    self._claim_ports([(s.name, s.port, "services") for s in todo], ports)
                    prepared = [self._prepare(svc, ports) for svc in todo]
                    self._start_all(prepared, env=self._env(ports))
                    result.started = [p.svc.name for p in prepared]
                self._up_processes(procs, ports, result)
            finally:
                # What runs now is expected to keep running (`riso status` checks it), even when
                # another service of this call failed.
                up_now = {s.name for s in wanted if self.layout.pid_file(s.name).exists()}
                up_now |= {p.name for p in procs if self.layout.process_file(p.name).exists()}
                expected = set(expected_before) | up_now
                try:
                    write_up(self.layout, [n for n in self._names if n in expected])
                except OSError as problem:
                    self.warnings.append(
                        f"could not write {self.layout.relative(self.layout.up_file)}: {problem.strerror}"
                    )
            try:
                self.write_env_file()
            except RisoError as problem:  # a value no dotenv file can hold: the servers still run
                self.layout.env_file.unlink(missing_ok=True)
                self.warnings.append(f"{self.layout.relative(self.layout.env_file)} not written: {problem}")
        return result

    def write_env_file(self) -> None:
        """`.riso/env`: the exports of `riso env` as a dotenv file (for direnv and compose)."""
        write_text(self.layout.env_file, envfile.dotenv(self.env(lock=False)), mode=0o600)

    def _clear_leftovers(self, svc: Service) -> None:
        """Before a start: stop processes of this service found without a record (none, normally)
        and remove the temporary folders of an init that was killed (and whatever still runs in them)."""
        data_dir = self.data_dir(svc)
        if self._foreign_owner(svc, data_dir) is not None:
            return
        self._kill_strays(svc)
        parent = Path(process.real(data_dir)).parent
        for partial in parent.glob(f".{data_dir.name}{INIT_PREFIX}*") if parent.is_dir() else []:
            process.kill_all(process.find_under(process.real(partial)))
            shutil.rmtree(partial, ignore_errors=True)

    def _kill_strays(self, svc: Service) -> None:
        """Stop processes of this service's program working in its (own) data dir that no record
        names: Postgres backends whose postmaster was killed, a server whose pid file was lost."""
        executable = self._executable(svc)
        if executable is None or not self._searchable(svc):
            return
        process.kill_all(process.find(self._home(svc), {executable}))

    def _finish_setup(self, svc: Service, record: PidRecord, ports: dict[str, int], env: dict[str, str]) -> None:
        """Run the setup hooks of an already running service whose setup never completed
        (its start was killed after the server came up)."""
        setup = hooks.setup_fingerprint(svc.post_start)
        if read_setup_stamp(self.layout, svc.name) == setup:
            return
        ctx = self._context(svc, ports).with_dirs(record.data_dir, record.socket_dir)
        hooks.run(
            svc.name,
            hooks.still_to_run(svc.post_start, False),
            self._target(svc, record),
            expand=ctx.expand,
            env=env,
            cwd=self.root,
        )
        write_setup_stamp(self.layout, svc.name, setup)
        clear_intent(self.layout, svc.name)

    def _start_all(self, prepared: list[_Prepared], env: dict[str, str]) -> None:
        """Start services in parallel, each after its dependencies are ready; first failure raises."""
        self._run_graph([(p.svc.name, p.svc.depends_on, functools.partial(self._start_one, p, env)) for p in prepared])

    def _run_graph(self, items: list[tuple[str, list[str], Callable[[], None]]]) -> None:
        """Run each start (name, depends_on, start) in a thread of its own once the starts it
        depends on are done; the first failure (in the given order) is raised."""
        done = {name: threading.Event() for name, _, _ in items}
        failures: dict[str, BaseException] = {}

        def work(name: str, depends_on: list[str], start: Callable[[], None]) -> None:
            try:
                for dep in depends_on:
                    if dep in done:
                        done[dep].wait()
                        if dep in failures:
                            raise RisoError(f"{name} not started: {dep} failed")
                if self._cancel.is_set():
                    raise KeyboardInterrupt
                start()
            except BaseException as problem:  # handed to the caller's thread
                failures[name] = problem
            finally:
                done[name].set()

        if len(items) == 1:
            work(*items[0])
        else:
            threads = [threading.Thread(target=work, args=item, daemon=True) for item in items]
            for thread in threads:
                thread.start()
            try:
                for thread in threads:
                    thread.join()
            except KeyboardInterrupt:
                self._cancel.set()
                for thread in threads:
                    thread.join()
                raise
        for name, _, _ in items:  # report in start order
            problem = failures.get(name)
            if problem is not None:
                if isinstance(problem, OSError):
                    where = f": {problem.filename}" if problem.filename else ""
                    raise RisoError(f"{name}: {problem.strerror or problem}{where}") from None
                raise problem

    # --- processes -------------------------------------------------------------------------

    def _process_context(self, proc: Process, ports: dict[str, int]) -> Context:
        return self._placeholders(proc.name, ports)

    def missing_program(self, proc: Process) -> str | None:
        """The program of `proc` when it is found neither in .venv/bin nor on PATH, else None."""
        ctx = self._process_context(proc, {})
        try:
            program, cwd = ctx.expand(proc.command[0]), Path(ctx.expand(proc.working_dir))
        except RisoError:
            return None  # a placeholder needing ports: checked when it starts
        return None if resolve(program, self.root, cwd) else program

    def _skip_processes(self, procs: list[Process], skipped: dict[str, str]) -> dict[str, str]:
        """Processes left out: those needing a skipped service, and (only with allow_missing)
        those whose program is missing; raises naming the first missing program otherwise."""
        out: dict[str, str] = {}
        for proc in procs:
            blocked = next((d for d in proc.depends_on if d in skipped or d in out), None)
            if blocked is not None:
                out[proc.name] = f"needs {blocked}, which is skipped"
                continue
            program = self.missing_program(proc)
            if program is None:
                continue
            hint = (
                "install it (for the project's own programs: its environment, e.g. `uv sync`), "
                f"fix command under [tool.riso.processes.{proc.name}], or run `riso up --services-only`"
            )
            if not self.allow_missing:
                raise RisoError(
                    f"{proc.name}: command {program!r} not found (looked in .venv/bin and on PATH)",
                    f"{hint}; or pass --allow-missing to go on without it",
                )
            out[proc.name] = f"command {program!r} not found ({hint})"
        return out

    def _up_processes(self, procs: list[Process], ports: dict[str, int], result: UpResult) -> None:
        """Start the processes that do not run yet, dependencies first, each once ready."""
        todo: list[Process] = []
        for proc in procs:
            found = self.processes.state(proc.name, ports.get(proc.name))
            if found.state in (RUNNING, RESTARTING):
                if found.record is not None and found.record.port is not None:
                    ports[proc.name] = found.record.port
                result.already_running.append(proc.name)
                continue
            self.processes.clear_crashed(proc.name, found)
            todo.append(proc)
        if not todo:
            return
        self._claim_ports([(p.name, p.port, "processes") for p in todo if p.port is not None], ports)
        exports = self._exports(ports)
        launches = [self._launch_item(proc, ports, exports) for proc in todo]
        self._run_graph(
            [
                (i.proc.name, i.proc.depends_on, functools.partial(self.processes.start, i, self._cancel))
                for i in launches
            ]
        )
        result.started += [p.name for p in todo]

    def _launch_item(self, proc: Process, ports: dict[str, int], exports: dict[str, str]) -> Launch:
        ctx = self._process_context(proc, ports)
        cwd = Path(ctx.expand(proc.working_dir))
        if not cwd.is_dir():
            raise RisoError(
                f"{proc.name}: its working folder {cwd} does not exist",
                f"create it, or fix working_dir under [tool.riso.processes.{proc.name}]",
            )
        argv = ctx.expand_all(proc.command)
        program = resolve(argv[0], self.root, cwd)
        if program is None:
            raise RisoError(f"{proc.name}: command {argv[0]!r} not found (looked in .venv/bin and on PATH)")
        own = {_env_name(proc, k): ctx.expand(v) for k, v in proc.env.items()}
        port = ports[proc.name] if proc.port is not None else None
        return Launch(proc, ctx, [program, *argv[1:]], environment(self.root, exports, own), cwd, port)

    def _env(self, ports: dict[str, int]) -> dict[str, str]:
        """The environment post_start commands run with: the caller's plus every export."""
        env = dict(os.environ)
        for svc in self.plan.services:
            ctx = self._context(svc, ports)
            try:
                data_dir, socket_dir = self._default_dirs(svc, ctx)
                ctx = ctx.with_dirs(str(data_dir), socket_dir)
                env.update({_env_name(svc, k): ctx.expand(v) for k, v in svc.env.items()})
            except RisoError:
                continue  # a missing service's exports
        return env

    def _run_init(self, item: _Prepared, target: Path, log: Path, offset: int) -> None:
        ctx = item.ctx.with_dirs(str(target), item.socket_dir)
        for step in item.svc.init:
            argv = ctx.expand_all(step)
            env = process.service_env(target)
            code = process.run(argv, log=log, cwd=target, env=env, user=item.user)
            if code != 0:
                raise RisoError(
                    f"{item.svc.name}: init step {Path(argv[0]).name} failed (exit {code}); "
                    f"last lines of {self.layout.relative(log)}:\n{tail(log, offset)}"
                )

    def _initialise(self, item: _Prepared, log: Path, offset: int) -> None:
        """Init a fresh data dir crash-safely: in a temporary folder beside it, marked as this
        project's, then renamed into place. A killed init leaves only the temporary folder."""
        data = item.data_dir
        if self._half_made(item.svc, data):  # an in-place init of ours was killed (checked: the intent)
            for entry in list(data.iterdir()):
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        clear_setup_stamp(self.layout, item.svc.name)
        partial = data.parent / f".{data.name}{INIT_PREFIX}{secrets.token_hex(4)}"
        partial.mkdir(mode=0o700)
        try:
            if item.user:
                os.chown(partial, item.user.uid, item.user.gid, follow_symlinks=False)
            self._run_init(item, partial, log, offset)
            self._mark(partial, item)
            data.rmdir()
            os.rename(partial, data)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise

    def _mark(self, data_dir: Path, item: _Prepared) -> None:
        write_owner(data_dir, self.root)
        if item.user:
            os.chown(data_dir / ".riso-owner", item.user.uid, item.user.gid, follow_symlinks=False)

    def _write_files(self, item: _Prepared) -> None:
        for spec in item.svc.files:
            path = Path(item.ctx.expand(spec.path))
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(path, item.ctx.expand(spec.content))
            if item.user:
                os.chown(path, item.user.uid, item.user.gid, follow_symlinks=False)

    def _start_one(self, item: _Prepared, env: dict[str, str]) -> None:
        """Record the intent, init (on empty data), start, record, wait until ready, run the hooks."""
        name = item.svc.name
        log = self.layout.log_file(name)
        offset = log.stat().st_size if log.exists() else 0
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"--- riso: starting {name} at {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n")
        write_intent(self.layout, name, item.data_dir)
        owner = read_owner(item.data_dir)
        if item.svc.init and (_is_empty(item.data_dir) or self._half_made(item.svc, item.data_dir)):
            self._initialise(item, log, offset)
        elif owner is None or owner.project != str(self.root):
            if _is_empty(item.data_dir):
                clear_setup_stamp(self.layout, name)
            self._mark(item.data_dir, item)  # new data, data made before markers, or a copy's own
        self._write_files(item)
        proc, record = self._launch(item, log)
        try:
            self._await_ready(item.svc, proc, record, log, offset)
            self._run_hooks(item, record, env)
        except BaseException:  # a failure, a failing hook, Ctrl-C: the server just started is stopped
            self._abandon(item.svc, record)
            raise
        clear_intent(self.layout, name)

    def _launch(self, item: _Prepared, log: Path) -> tuple[subprocess.Popen[bytes], PidRecord]:
        argv = item.ctx.expand_all(item.svc.start)
        env = process.service_env(item.data_dir)
        proc = process.spawn(argv, log=log, cwd=item.data_dir, env=env, user=item.user)
        found = shutil.which(argv[0])
        record = PidRecord(
            pid=proc.pid,
            start_time=process.start_time(proc.pid) or 0,  # 0: it exited at once, the wait says so
            port=item.port,
            data_dir=process.real(item.data_dir),
            socket_dir=item.socket_dir,
            uid=item.user.uid if item.user else os.geteuid(),
            executable=process.real(found) if found else None,
        )
        try:
            write_pid(self.layout, item.svc.name, record)
        except OSError as problem:
            # A server riso cannot record would run unseen: stop it at once.
            self._abandon(item.svc, record)
            where = self.layout.relative(self.layout.pid_file(item.svc.name))
            raise RisoError(
                f"{item.svc.name}: cannot record the server in {where} ({problem.strerror}); stopped it",
                "free space in (or make writable) the project's .riso folder, then run `riso up` again",
            ) from None
        return proc, record

    def _await_ready(
        self, svc: Service, proc: subprocess.Popen[bytes], record: PidRecord, log: Path, offset: int
    ) -> None:
        target = self._target(svc, record)
        outcome = probes.wait(
            lambda: probes.check(svc.readiness.type, target),
            lambda: proc.poll() is None and not self._cancel.is_set(),
            svc.readiness.timeout,
        )
        if outcome is probes.Outcome.READY:
            return
        self._abandon(svc, record)
        if self._cancel.is_set():
            raise KeyboardInterrupt
        why = (
            f"exited with code {proc.returncode} before it was ready"
            if outcome is probes.Outcome.EXITED
            else f"did not become ready within {svc.readiness.timeout:g}s"
        )
        raise RisoError(f"{svc.name} {why}; last lines of {self.layout.relative(log)}:\n{tail(log, offset)}")

    def _run_hooks(self, item: _Prepared, record: PidRecord, env: dict[str, str]) -> None:
        name, svc = item.svc.name, item.svc
        setup = hooks.setup_fingerprint(svc.post_start)
        due = hooks.still_to_run(svc.post_start, setup_done=read_setup_stamp(self.layout, name) == setup)
        hooks.run(name, due, self._target(svc, record), expand=item.ctx.expand, env=env, cwd=self.root)
        write_setup_stamp(self.layout, name, setup)

    def _abandon(self, svc: Service, record: PidRecord) -> None:
        ident = process.Identity(
            record.pid, record.start_time, record.executable, record.data_dir, record.port, self._searchable(svc)
        )
        process.stop(ident, svc.stop_signal, min(svc.stop_timeout, 5.0))
        self._remove_socket_dir(record.socket_dir)
        with contextlib.suppress(OSError):
            remove_pid(self.layout, svc.name)

    def _remove_socket_dir(self, socket_dir: str | None) -> None:
        if socket_dir is not None and self._is_short_socket_dir(socket_dir):
            shutil.rmtree(socket_dir, ignore_errors=True)

    def _target(self, svc: Service, record: PidRecord) -> probes.Target:
        user = svc.env.get("PGUSER", "postgres")
        return probes.Target(
            host=HOST,
            port=record.port,
            data_dir=Path(record.data_dir),
            socket_dir=record.socket_dir,
            psql=svc.binaries.get("psql"),
            user=user if "{" not in user else "postgres",
            path=svc.readiness.path,
        )

    # --- down ------------------------------------------------------------------------------

    def down(self, volumes: bool = False, services: list[str] | None = None) -> list[str]:
        """Stop the project's processes, then its services (reverse start order, graceful signal,
        then SIGKILL).

        All of them, or only those named in `services` (data kept then). With `volumes`, delete their data too
        (only data that is this project's). Works on a read-only or full `.riso/`: stopping never
        depends on writing state (what could not be updated is listed in `warnings`).
        Returns the names of the services that were running.
        """
        if not self.layout.base.is_dir():
            return []
        stopped: list[str] = []
        with project_lock(self.layout, self.lock_timeout, writable=False):
            problems: list[StateError] = []
            try:
                procs_in_plan = [p.name for p in reversed(self.process_order)]
            except RisoError:  # a plan with bad dependencies must not keep its processes running
                procs_in_plan = [p.name for p in reversed(self.plan.processes)]
            proc_names = [n for n in recorded_processes(self.layout) if n not in procs_in_plan] + procs_in_plan
            if services is not None:
                proc_names = [n for n in proc_names if n in services]
            for name in proc_names:  # processes first: they use the services
                try:
                    if self.processes.stop(name, self._process(name)):
                        stopped.append(name)
                except StateError as problem:
                    problems.append(problem)
            try:
                in_plan = [s.name for s in reversed(self.order)]
            except RisoError:  # a plan with bad dependencies must not keep its services running
                in_plan = [s.name for s in reversed(self.plan.services)]
            names = [n for n in recorded_services(self.layout) if n not in in_plan] + in_plan
            if services is not None:
                names = [n for n in names if n in services]
            for name in names:
                try:
                    if self._stop(name):
                        stopped.append(name)
                except StateError as problem:
                    problems.append(problem)
            try:
                if services is None:
                    clear_up(self.layout)
                    self.layout.env_file.unlink(missing_ok=True)
                else:
                    write_up(self.layout, [n for n in read_up(self.layout) if n not in services])
            except OSError as problem:
                self.warnings.append(f"could not update {self.layout.relative(self.layout.run)}: {problem.strerror}")
            if problems:
                raise problems[0]
            if volumes and services is None:
                self._delete_data()
                for svc in self.plan.services:
                    clear_setup_stamp(self.layout, svc.name)
                    clear_intent(self.layout, svc.name)
        return stopped

    def _stop(self, name: str) -> bool:
        try:
            svc: Service | None = self.plan.service(name)
        except KeyError:
            svc = None
        try:
            state, record = self._state(name)
        except StateError:
            if svc is None:
                raise
            state, record = STOPPED, None  # an unreadable record: look for the server itself
            found = self._find_unrecorded(svc)
            if found is None:
                raise
            state, record = RUNNING, found
        if record is None:
            if svc is not None:
                self._kill_strays(svc)
            if self.layout.pid_file(name).exists():
                self._forget(name)  # a record naming a process that is not this project's
            return False
        ident = self._identity(svc, record)
        if ident is not None:
            process.stop(ident, svc.stop_signal if svc else "SIGTERM", svc.stop_timeout if svc else 10.0)
        if svc is not None:
            self._kill_strays(svc)
        self._remove_socket_dir(record.socket_dir)
        self._forget(name)
        return state == RUNNING

    def _delete_data(self) -> None:
        """Delete each service's data dir, only when it is this project's; a link to another
        project's data is removed, its target left alone."""
        for svc in self.plan.services:
            data_dir = self.data_dir(svc)
            foreign = self._foreign_owner(svc, data_dir) is not None
            if data_dir.exists() and not data_dir.is_symlink() and not self._searchable(svc):
                shown = self.layout.relative(data_dir)
                self.warnings.append(f"{svc.name}: data dir {shown} is outside .riso/state; not deleted")
                continue
            if data_dir.is_symlink():
                if not foreign:
                    shutil.rmtree(data_dir.resolve(), ignore_errors=True)
                data_dir.unlink()
            elif data_dir.exists():
                shutil.rmtree(data_dir)
        own = RELOCATED / self._key
        named = own / "project"
        if own.is_dir() and (
            not named.exists() or named.read_text(encoding="utf-8", errors="replace").strip() == str(self.root)
        ):
            shutil.rmtree(own, ignore_errors=True)

    # --- status, env, logs -----------------------------------------------------------------

    def status(self, probe: bool = True) -> list[ServiceStatus]:
        """Every service of the plan (and any still recorded from an older plan)."""
        ports = read_ports(self.layout) if self.layout.run.is_dir() else {}
        out: list[ServiceStatus] = []
        for svc in self.plan.services:
            port = svc.port or ports.get(svc.name)
            if self.missing_binary(svc) is not None:
                out.append(ServiceStatus(svc.name, None, port, MISSING, False))
                continue
            state, record = self._state(svc.name)
            healthy = False
            if state == RUNNING and record is not None:
                port = record.port
                healthy = probe and probes.check(svc.readiness.type, self._target(svc, record))
            out.append(ServiceStatus(svc.name, record.pid if record else None, port, state, healthy))
        names = {s.name for s in self.plan.services}
        for name in recorded_services(self.layout):
            if name not in names:
                state, record = self._state(name)
                out.append(ServiceStatus(name, record.pid if record else None, None, state, False))
        return out + self._process_statuses(ports, probe)

    def _process_statuses(self, ports: dict[str, int], probe: bool) -> list[ServiceStatus]:
        out: list[ServiceStatus] = []
        for proc in self.plan.processes:
            port = (proc.port or ports.get(proc.name)) if proc.port is not None else None
            if self.missing_program(proc) is not None:
                out.append(ServiceStatus(proc.name, None, port, MISSING, False, "process", 0))
                continue
            found = self.processes.state(proc.name, port)
            if found.record is not None and found.record.port is not None:
                port = found.record.port
            healthy = probe and found.state == RUNNING and self._process_healthy(proc, port, found, ports)
            out.append(ServiceStatus(proc.name, found.pid, port, found.state, healthy, "process", found.restarts))
        names = {p.name for p in self.plan.processes}
        for name in recorded_processes(self.layout):
            if name not in names:
                found = self.processes.state(name)
                out.append(ServiceStatus(name, found.pid, None, found.state, False, "process", found.restarts))
        return out

    def _process_healthy(self, proc: Process, port: int | None, found: Found, ports: dict[str, int]) -> bool:
        if found.status is None:
            return False
        try:
            ctx = self._process_context(proc, {**ports, **({proc.name: port} if port else {})})
            cwd = Path(ctx.expand(proc.working_dir))
            env = {}
            if proc.readiness.type == "command":
                own = {_env_name(proc, k): ctx.expand(v) for k, v in proc.env.items()}
                env = environment(self.root, self._exports(ports), own)
        except RisoError:
            return False
        return self.processes.check(Launch(proc, ctx, [], env, cwd, port), found.status)

    def expected(self) -> list[str]:
        """The services `riso up` was asked to run (until `riso down`)."""
        return read_up(self.layout) if self.layout.run.is_dir() else []

    def failing(self, statuses: list[ServiceStatus]) -> list[ServiceStatus]:
        """Services that should run but are crashed, stopped or not answering their probe."""
        expected = set(self.expected())
        return [
            s
            for s in statuses
            if (s.state == CRASHED)
            or (s.name in expected and s.state == RUNNING and not s.healthy)
            # a process that finished by itself (exit 0, not restarted by its policy) is not failing
            or (s.name in expected and s.kind == "service" and s.state == STOPPED)
        ]

    def env(self, lock: bool = True) -> dict[str, str]:
        """Every export of the services present on this machine, ports allocated if need be."""
        self.layout.ensure()
        ports = self._ports(allocate=False)
        if any(name not in ports for name, _ in self._listeners()):
            if lock:
                with project_lock(self.layout, self.lock_timeout):
                    ports = self._ports(allocate=True)
            else:
                ports = self._ports(allocate=True)
        return self._exports(ports)

    def _exports(self, ports: dict[str, int]) -> dict[str, str]:
        """What `riso env` prints: every service's exports (from its record while it runs), then
        every process's (APP_URL, ...)."""
        exports: dict[str, str] = {}
        for svc in self.plan.services:
            if self.missing_binary(svc) is not None:
                continue
            record = read_pid(self.layout, svc.name)
            ctx = self._context(svc, ports)
            data_dir, socket_dir = self._default_dirs(svc, ctx)
            if record is not None and self._identity(svc, record) is not None:
                data_dir, socket_dir = Path(record.data_dir), record.socket_dir
                ctx = replace(ctx, ports={**ports, svc.name: record.port})
            ctx = ctx.with_dirs(str(data_dir), socket_dir)
            exports.update({_env_name(svc, k): ctx.expand(v) for k, v in svc.env.items()})
        for proc in self.plan.processes:
            started = read_process(self.layout, proc.name)
            here = ports
            if started is not None and started.port and self.processes.identity(proc.name, started) is not None:
                here = {**ports, proc.name: started.port}
            ctx = self._process_context(proc, here)
            exports.update({_env_name(proc, k): ctx.expand(v) for k, v in proc.exports.items()})
        return exports

    def log_files(self, service: str | None = None) -> list[tuple[str, Path]]:
        """(name, log) of one service or process, or of all of them."""
        if service:
            self._known(service)
        names = [service] if service else self._names
        return [(n, self.layout.log_file(n)) for n in names]

    def watch(self, stop: threading.Event, interval: float = 0.2) -> str | None:
        """Block until `stop` is set, a service crashes (its name is returned) or the project is taken down."""
        while not stop.wait(interval):
            expected = read_up(self.layout)
            if not expected:
                return None
            processes = {p.name for p in self.plan.processes}
            for name in expected:
                if name in processes:
                    # restarting is the supervisor's business; a clean exit is no crash
                    if self.processes.state(name).state == CRASHED:
                        return name
                    continue
                state, _ = self._state(name)
                if state != RUNNING:
                    return name
        return None


ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(svc: Service | Process, name: str) -> str:
    """An export's name, checked: a plan (RISO_PLAN may come from anywhere) names variables only."""
    if not ENV_NAME.fullmatch(name):
        raise RisoError(
            f"{svc.name}: the plan exports {name!r}, which is not a valid environment variable name",
            "use letters, digits and _ (not starting with a digit) in the plan's env names",
        )
    return name


def _complete_cluster(data_dir: Path) -> bool:
    """A Postgres cluster initdb finished: its version file and its control file."""
    return (data_dir / "PG_VERSION").is_file() and (data_dir / "global" / "pg_control").is_file()


def _clear_stale_postgres_locks(data_dir: Path, socket_dir: str | None, executable: str | None) -> None:
    """Remove lock files (postmaster.pid, the sockets' .s.PGSQL.*.lock) whose server is gone.

    Postgres removes a stale lock itself when its pid is dead, but refuses to start while that pid
    answers kill(pid, 0): a zombie nobody reaps (a container whose init does not reap orphans) or
    an unrelated process that got the pid. Neither is this cluster's server, so the lock is stale.
    """
    locks = [data_dir / "postmaster.pid"]
    if socket_dir:
        locks += Path(socket_dir).glob(".s.PGSQL.*.lock")
    home = process.real(data_dir)
    for lock in locks:
        pid = _lock_pid(lock)
        started = None if pid is None else process.start_time(pid)
        if pid is not None and started is not None and process.Identity(pid, started, executable, home).matches():
            continue  # a live server of this cluster: never touch its lock
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def _lock_pid(lock: Path) -> int | None:
    """Line 1 of a Postgres lock file (postmaster.pid, a socket's lock): the server's pid."""
    try:
        first = lock.read_bytes().split(b"\n", 1)[0]
        return int(first.decode("ascii"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _postmaster_pid(data_dir: Path) -> int | None:
    """Line 1 of postmaster.pid (Postgres' own record of its server), when readable."""
    return _lock_pid(data_dir / "postmaster.pid")


_Dependent = TypeVar("_Dependent", "Service", "Process")


def _dependencies_first(items: Sequence[_Dependent], ready_before: set[str]) -> list[_Dependent]:
    """`items` in the plan's order, each after its `depends_on` (names in `ready_before` count as
    already started); an unknown dependency or a cycle is one error naming the item."""
    placed: list[_Dependent] = []
    pending = list(items)
    while pending:
        names = ready_before | {i.name for i in placed}
        ready = [i for i in pending if all(d in names for d in i.depends_on)]
        if not ready:
            unknown = sorted({d for i in pending for d in i.depends_on} - names - {i.name for i in pending})
            why = f"depends on {unknown[0]!r}, which is not in the plan" if unknown else "is in a dependency cycle"
            raise RisoError(f"{pending[0].name} {why}", "fix depends_on in the plan")
        placed += ready
        pending = [i for i in pending if i not in ready]
    return placed
