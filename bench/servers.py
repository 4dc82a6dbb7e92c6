"""Starting, watching and stopping the servers under test (Commonpod and the CSS).

Each server runs in its own process group with its output in a log file. CPU time and
peak memory are read from /proc for the server's process and all its descendants.
For the authenticated rows each server also gets an account with a private pod and a
client credential: Commonpod through its CLI, a second CSS instance through its account API.
Commonpod gets a second account too, which reads the first one's pod through an access grant.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

CSS_PACKAGE = "@solid/community-server"
CSS_VERSION = "7.2.0"
CSS_SERVER_JS = Path("node_modules", CSS_PACKAGE, "bin", "server.js")
CSS_PUBLIC_CONFIG = "@css:config/file-root.json"  # file backend, publicly writable root
CSS_ACCOUNTS_CONFIG = "@css:config/file.json"  # file backend, accounts and an OIDC issuer
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ACCOUNT = "benchuser"  # Commonpod account (and pod) name for the authenticated rows
APP_ACCOUNT = "benchapp"  # Commonpod account that reads benchuser's pod through a grant
CSS_POD = "alice"


class BenchError(RuntimeError):
    """Something the benchmark needs is missing or broke; the message says what."""


class ServerProcess:
    """A server process started in a new session (so its whole group can be stopped)."""

    def __init__(
        self,
        argv: list[str],
        log_path: Path,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ):
        """Start `argv` with stdout and stderr going to `log_path`."""
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        """The process id of the server (the leader of its process group)."""
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        """The last `lines` lines the server printed."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM the process group; `grace_s` later, SIGKILL whatever is left of it."""
        _signal_group(self.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(grace_s)
        _signal_group(self.pid, signal.SIGKILL)
        self.popen.wait()

    def cpu_seconds(self) -> float:
        """User plus system CPU time used so far by the server and its descendants."""
        return sum(_stat_fields(pid)[1] for pid in _process_tree(self.pid)) / CLOCK_TICKS

    def peak_rss_mib(self) -> float:
        """Peak resident memory (VmHWM) of the server, summed over its processes, in MiB."""
        return sum(_vm_hwm_kib(pid) for pid in _process_tree(self.pid)) / 1024

    def anon_rss_mib(self) -> float:
        """Resident anonymous memory (RssAnon) now, summed over its processes, in MiB: the
        processes' own memory, without the pages of files they map (SQLite's memory-mapped
        database pages count in the RSS, but are the kernel's file cache, shared and
        reclaimable)."""
        return sum(_status_kib(pid, "RssAnon:") for pid in _process_tree(self.pid)) / 1024

    def wait_idle(self, timeout_s: float = 120.0, interval_s: float = 0.3) -> None:
        """Wait until the server uses (almost) no CPU, e.g. after a load run was cut off."""
        deadline = time.monotonic() + timeout_s
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(interval_s)
            now = self.cpu_seconds()
            if now - last <= 2 / CLOCK_TICKS:
                return
            last = now


@dataclass(frozen=True)
class ClientCredentials:
    """An account's client credential: what the OAuth client-credentials grant needs."""

    issuer: str  # ends in /; discovery at {issuer}.well-known/openid-configuration
    client_id: str
    client_secret: str
    webid: str


@dataclass
class Server:
    """A running server under test, and the writable container the benchmark uses: a public
    one, or (with `credentials`) the pod of an account that only its owner may use. With
    `grantee`, the credentials are another account's, which reaches that pod only through an
    access grant from its owner."""

    name: str
    root: str
    process: ServerProcess
    credentials: ClientCredentials | None = None
    grantee: bool = False

    @property
    def origin(self) -> str:
        """Scheme, host and port of the server, e.g. http://127.0.0.1:8000."""
        parts = urlsplit(self.root)
        return f"{parts.scheme}://{parts.netloc}"


def others_cpu_seconds() -> float:
    """CPU time used so far machine-wide (/proc/stat) less this process and its reaped
    children (wrk): the servers and anything else running on the machine."""
    fields = [int(f) for f in Path("/proc/stat").read_text(encoding="ascii").split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    busy = (user + nice + system + irq + softirq + steal) / CLOCK_TICKS
    usages = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return busy - sum(u.ru_utime + u.ru_stime for u in usages)


def postgres_cpu_seconds() -> float:
    """CPU time used so far by the machine's PostgreSQL processes (``postgres``: its
    postmaster, the backends serving connections, its background writers): the live ones' own
    and, through the postmaster's children's time, that of backends which have exited since
    (a backend of an earlier server's pool may end during a run: without it the sum fell)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
            fields = text[text.rindex(")") + 2 :].split()
            ticks += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return ticks / CLOCK_TICKS


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_request(
    method: str, url: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    """One HTTP request on a fresh connection (the query kept); (status, body)."""
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def start_commonpod(command: list[str], workdir: Path, account: bool = False) -> list[Server]:
    """Initialise a data directory, create a publicly writable pod, serve it; wait until up.

    With `account`, an account with its own (private) pod and a client credential is created
    before serving, and a second account (APP_ACCOUNT) with a credential of its own; the second
    Server returned is the same process seen from the first account's pod, the third the same
    pod seen by the second account (a grantee: it needs a grant from the owner, see run.py).
    """
    if shutil.which(command[0]) is None:
        raise BenchError(
            f"`{command[0]}` is not on PATH. Install Commonpod with `pip install -e .` in the "
            "repository root, pass --commonpod 'CMD ...', or run with --only css."
        )
    data, port = workdir / "commonpod-data", free_port()
    _run([*command, "init", "--data-dir", str(data), "--base-url", f"http://127.0.0.1:{port}/"])
    created = _run([*command, "pod", "create", "bench", "--data-dir", str(data), "--public-write"])
    private = _commonpod_account(command, data, ACCOUNT) if account else None
    guest = _commonpod_account(command, data, APP_ACCOUNT) if account else None
    argv = [*command, "serve", "--data-dir", str(data), "--port", str(port)]
    process = ServerProcess(argv, workdir / "commonpod.log")
    server = _launch(Server("Commonpod", _pod_url(created), process))
    if private is None or guest is None:
        return [server]
    return [
        server,
        Server("Commonpod", private[0], server.process, private[1]),
        Server("Commonpod", private[0], server.process, guest[1], grantee=True),
    ]


def start_css(css_dir: Path, workdir: Path) -> Server:
    """Start the CSS (file backend, publicly writable root) under node; wait until up."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    return _launch(
        Server("CSS", base, _css_process(css_dir, workdir, "css", CSS_PUBLIC_CONFIG, base))
    )


def start_css_with_account(css_dir: Path, workdir: Path) -> Server:
    """Start a second CSS with accounts, make an account with a pod and a client credential;
    the Server's root is that pod. Its base URL says `localhost`: with 127.0.0.1 the CSS
    answers 401 to every authenticated request."""
    port = free_port()
    base = f"http://localhost:{port}/"
    process = _css_process(css_dir, workdir, "css-accounts", CSS_ACCOUNTS_CONFIG, base)
    server = _launch(Server("CSS", base, process))
    try:
        server.root, server.credentials = _css_account(base)
    except BaseException:
        process.stop()
        raise
    return server


def _css_process(css_dir: Path, workdir: Path, name: str, config: str, base: str) -> ServerProcess:
    """Start the CSS with `config` at `base` under node, with a fresh data folder and a log
    file in `workdir` named after `name`."""
    server_js = ensure_css(css_dir)
    data = workdir / f"{name}-data"
    data.mkdir()
    argv = [
        "node",
        str(server_js),
        "-c",
        config,
        "-f",
        str(data),
        "-b",
        base,
        "-p",
        str(urlsplit(base).port),
        "-l",
        "warn",
    ]
    # The CSS turns every CSS_* variable into a command-line option: pass none.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSS_")}
    return ServerProcess(argv, workdir / f"{name}.log", cwd=css_dir, env=env)


def ensure_css(css_dir: Path) -> Path:
    """The CSS's bin/server.js under `css_dir`, installed there with npm first if missing."""
    server_js = css_dir / CSS_SERVER_JS
    if server_js.exists():
        return server_js
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise BenchError(
            "node and npm are needed to install and run the CSS (or use --only commonpod)."
        )
    css_dir.mkdir(parents=True, exist_ok=True)
    package_json = css_dir / "package.json"
    if not package_json.exists():  # keeps npm from installing into a parent project
        package_json.write_text('{"private": true}\n', encoding="utf-8")
    print(f"installing {CSS_PACKAGE}@{CSS_VERSION} into {css_dir} ...", flush=True)
    _run(["npm", "install", "--no-audit", "--no-fund", f"{CSS_PACKAGE}@{CSS_VERSION}"], cwd=css_dir)
    if not server_js.exists():
        raise BenchError(f"npm install finished but {server_js} is missing")
    return server_js


def css_version(css_dir: Path) -> str:
    """The version of the CSS installed under `css_dir`."""
    package = css_dir / "node_modules" / CSS_PACKAGE / "package.json"
    return json.loads(package.read_text(encoding="utf-8"))["version"]


def _pod_url(created: str) -> str:
    """The pod URL from the JSON `commonpod pod create` or `account create` prints (maybe
    after other lines)."""
    pod = _last_json(created).get("pod")
    if not isinstance(pod, str):
        raise BenchError(f"`commonpod` printed no JSON with a 'pod' key:\n{created}")
    return pod if pod.endswith("/") else pod + "/"


def _commonpod_account(command: list[str], data: Path, name: str) -> tuple[str, ClientCredentials]:
    """Create a Commonpod account `name` and a client credential for it with the CLI; the
    account's pod URL and the credential."""
    # A password nobody needs: the run signs in with the client credential only.
    created = _run(
        [*command, "account", "create", name, "--data-dir", str(data), "--password-file", "-"],
        stdin=secrets.token_urlsafe(16) + "\n",
    )
    made = _run([*command, "credentials", "create", name, "--data-dir", str(data)])
    try:
        answer = _last_json(made)
        credentials = ClientCredentials(
            answer["issuer"], answer["client_id"], answer["client_secret"], answer["webid"]
        )
    except (KeyError, TypeError):
        raise BenchError(f"`commonpod credentials create` printed no credential:\n{made}") from None
    return _pod_url(created), credentials


def _css_account(base: str) -> tuple[str, ClientCredentials]:
    """Make an account, a pod and a client credential through the CSS's account JSON API
    (following the `controls` URLs of each answer); the pod URL and the credential. The
    account needs a login method (an email and password) before it may have a pod."""
    created = _css_api("POST", _css_controls(base, None)["account"]["create"], {}, None)
    token = created["authorization"]
    controls = _css_controls(base, token)
    login = {"email": "bench@example.org", "password": secrets.token_urlsafe(16)}
    _css_api("POST", controls["password"]["create"], login, token)
    pod = _css_api("POST", controls["account"]["pod"], {"name": CSS_POD}, token)
    webid = pod["webId"]
    body = {"name": "bench", "webId": webid}
    made = _css_api("POST", controls["account"]["clientCredentials"], body, token)
    return pod["pod"], ClientCredentials(base, made["id"], made["secret"], webid)


def _css_controls(base: str, token: str | None) -> dict[str, dict[str, str]]:
    """The `controls` of the CSS account API, as seen with `token` (or none)."""
    return _css_api("GET", base + ".account/", None, token)["controls"]


def _css_api(method: str, url: str, body: object, token: str | None) -> dict:
    """One JSON request to the CSS account API; its JSON answer."""
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"CSS-Account-Token {token}"
    data = None
    if body is not None:  # a Content-Type without a body is a 500 from the CSS
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    status, answer = http_request(method, url, headers, data)
    text = answer.decode("utf-8", errors="replace")
    if not 200 <= status < 300:
        raise BenchError(f"CSS account API: {method} {url} -> {status}: {text[:500]}")
    return json.loads(text)


def _last_json(printed: str) -> dict:
    """The JSON object a command printed (maybe after other lines); {} if none."""
    for text in (printed, *reversed(printed.strip().splitlines())):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def _launch(server: Server) -> Server:
    """Wait until `server` answers; stop it if it does not."""
    try:
        _wait_until_up(server)
    except BaseException:
        server.process.stop()
        raise
    return server


def _wait_until_up(server: Server, timeout_s: float = 120.0) -> None:
    """Poll the server's root until it answers anything over HTTP."""
    parts = urlsplit(server.root)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.popen.poll() is not None:
            raise BenchError(f"{server.name} exited at start-up:\n{server.process.log_tail()}")
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=2)
        try:
            connection.request("HEAD", parts.path)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    raise BenchError(
        f"{server.name} did not answer within {timeout_s:.0f} s:\n{server.process.log_tail()}"
    )


def _run(argv: list[str], cwd: Path | None = None, stdin: str | None = None) -> str:
    """Run a command to completion (`stdin` as its input) and return its stdout; its output
    in the error if it fails."""
    done = subprocess.run(argv, cwd=cwd, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(
            f"`{' '.join(argv)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout


def _signal_group(pid: int, signum: signal.Signals) -> None:
    """Send `signum` to the process group led by `pid`, if it still exists."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


def _process_tree(root: int) -> list[int]:
    """`root` and every live descendant of it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(_stat_fields(int(entry.name))[0], []).append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # the process ended while we looked
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def _stat_fields(pid: int) -> tuple[int, int]:
    """(parent pid, utime + stime in clock ticks) from /proc/PID/stat; 0 ticks if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return -1, 0
    fields = text[text.rindex(")") + 2 :].split()  # the command name may hold spaces
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _vm_hwm_kib(pid: int) -> int:
    """The peak resident set size (VmHWM) of one process in KiB; 0 if it is gone."""
    return _status_kib(pid, "VmHWM:")


def _status_kib(pid: int, field: str) -> int:
    """A size in KiB from /proc/PID/status (``field`` with its colon); 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
