"""`make sam-local-test`: the functions served by `sam local` in Lambda containers, against the local
stack's AWS and simulator through env.json, and the smoke suite run through them.

No image registry is reachable here, so Docker runs from Debian's docker.io, and the Lambda Python 3.11
image SAM expects is built from a Debian rootfs (debootstrap) and the awslambdaric runtime client, and
tagged as SAM's (`--skip-pull-image`; SAM mounts the runtime interface emulator it ships). dockerd, its
bridge, the local stack, `sam local start-api` and the smoke suite all run inside a network namespace
made for the run, so nothing outside this machine, nor its own network, is touched. Everything started
is stopped and removed at the end, on failure too. Needs root (`ip netns`, dockerd).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".sam-local"  # the image's rootfs, kept between runs (git-ignored)
AWSLAMBDARIC = "awslambdaric==4.2.2"
IMAGE = "public.ecr.aws/lambda/python:3.11-x86_64"  # what `sam local` runs python3.11 x86_64 functions on
BOOTSTRAP = """#!/bin/sh
# What Lambda's python3.11 runtime does: the function's code, its layers, then the runtime client.
export PYTHONPATH="/var/task:/opt/python/lib/python3.11/site-packages:/opt/python:/var/runtime"
exec /usr/bin/python3.11 -m awslambdaric "$_HANDLER"
"""


def say(message: str) -> None:
    print(f"sam-local-test: {message}", flush=True)


def run(*command: str, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=True, text=True, **options)  # type: ignore[call-overload]


def ensure_packages() -> None:
    needed = (("dockerd", "docker.io"), ("debootstrap", "debootstrap"))
    missing = [package for tool, package in needed if not shutil.which(tool)]
    if missing:
        say(f"installing {', '.join(missing)} from Debian (apt-get)")
        apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q"]
        run(*apt, "update", stdout=subprocess.DEVNULL)
        run(*apt, "install", "-y", "--no-install-recommends", *missing, stdout=subprocess.DEVNULL)


def lambda_rootfs() -> Path:
    """A tar of Debian bookworm (Python 3.11) with awslambdaric in /var/runtime; built once, then cached."""
    # The runtime's own boto3/botocore (the layer does not ship them): part of the image, as in Lambda.
    provided = (ROOT / "layers/common/runtime-provided.txt").read_bytes()
    sdk = hashlib.sha256(provided).hexdigest()[:12]
    tarball = CACHE / f"python3.11-{AWSLAMBDARIC.replace('==', '-')}-sdk-{sdk}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(exist_ok=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="farewatch-rootfs-") as folder:
        rootfs = Path(folder) / "rootfs"
        say("building the Lambda Python 3.11 image: debootstrap bookworm (about 2 minutes)")
        debian = ["bookworm", str(rootfs), "http://deb.debian.org/debian"]
        run("debootstrap", "--variant=minbase", "--include=python3", *debian, stdout=subprocess.DEVNULL)
        say(f"installing {AWSLAMBDARIC} into /var/runtime")
        pip = [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ]
        wheels_for = [
            "--platform",
            "manylinux2014_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
        ]
        run(*pip, "--target", str(rootfs / "var/runtime"), "--only-binary=:all:", *wheels_for, AWSLAMBDARIC)
        say("installing the runtime's boto3 and botocore (runtime-provided.txt) into /var/runtime")
        runtime_sdk = ["-r", str(ROOT / "layers/common/runtime-provided.txt")]
        run(*pip, "--target", str(rootfs / "var/runtime"), "--only-binary=:all:", *wheels_for, *runtime_sdk)
        (rootfs / "var/runtime/bootstrap").write_text(BOOTSTRAP)
        (rootfs / "var/runtime/bootstrap").chmod(0o755)
        (rootfs / "var/task").mkdir(exist_ok=True)
        (rootfs / "opt").mkdir(exist_ok=True)
        run("tar", "-C", str(rootfs), "-cf", str(tarball.with_suffix(".partial")), ".")
    tarball.with_suffix(".partial").rename(tarball)
    size = tarball.stat().st_size // 2**20
    say(f"image rootfs built in {time.monotonic() - started:.0f} s ({size} MiB, cached in {CACHE.name}/)")
    return tarball


@contextmanager
def namespace(name: str) -> Iterator[list[str]]:
    """A network namespace with only loopback; yields the prefix that runs a command inside it."""
    run("ip", "netns", "add", name)
    try:
        run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        # `ip netns exec` remounts /sys, which dockerd's cgroup handling cannot live with; nsenter does not.
        yield ["nsenter", f"--net=/run/netns/{name}"]
    finally:
        left = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
        for pid in left:
            os.kill(int(pid), signal.SIGKILL)  # anything of ours still in there
        subprocess.run(["ip", "netns", "delete", name], check=False)


@contextmanager
def background(command: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A process of ours, in its own session, stopped with SIGINT (then SIGKILL) at the end."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        for how, wait in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
            if process.poll() is None:
                os.killpg(process.pid, how)
                try:
                    process.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    continue


def wait_for(what: str, log: Path, ready: Callable[[], bool], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.5)
    tail = log.read_text(errors="replace")[-4000:]
    raise SystemExit(f"sam-local-test: {what} was not ready after {seconds:.0f} s; its log ends:\n{tail}")


def logged(log: Path, text: str) -> Callable[[], bool]:
    return lambda: text in log.read_text(errors="replace")


def main() -> int:
    if os.geteuid() != 0:
        say("needs root: it starts dockerd in a network namespace of its own")
        return 2
    started = time.monotonic()
    ensure_packages()
    rootfs = lambda_rootfs()
    work = Path(tempfile.mkdtemp(prefix="farewatch-sam-"))
    socket = work / "docker.sock"
    env = {**os.environ, "DOCKER_HOST": f"unix://{socket}", "SAM_CLI_TELEMETRY": "0", "PYTHONPATH": ""}
    project = {**env, "PYTHONPATH": os.environ.get("PYTHONPATH", ""), "SAM_LOCAL_WORK": str(work)}
    python, sam = str(ROOT / ".venv/bin/python"), str(ROOT / ".venv-sam/bin/sam")
    docker = shutil.which("docker", path="/usr/bin") or "docker"
    try:
        with ExitStack() as stack:
            inside = stack.enter_context(namespace(f"fw-sam-{os.getpid()}"))
            say("starting dockerd inside the namespace")
            folders = ["--data-root", str(work / "docker"), "--exec-root", str(work / "exec")]
            dockerd = ["dockerd", *folders, "--pidfile", str(work / "dockerd.pid"), "-H", f"unix://{socket}"]
            stack.enter_context(background([*inside, *dockerd], work / "dockerd.log", env))
            info = [docker, "info"]
            wait_for(
                "dockerd",
                work / "dockerd.log",
                lambda: subprocess.run(info, env=env, capture_output=True).returncode == 0,
            )
            changes = [
                "ENV LAMBDA_TASK_ROOT=/var/task",
                "ENV LAMBDA_RUNTIME_DIR=/var/runtime",
                "ENV LANG=C.UTF-8",
            ]
            options = [option for change in changes for option in ("--change", change)]
            with rootfs.open("rb") as image:
                run(docker, "import", *options, "-", IMAGE, stdin=image, env=env, stdout=subprocess.DEVNULL)

            say("starting the local stack (make dev) on all interfaces of the namespace")
            local = {"FAREWATCH_HOST": "0.0.0.0", "FAREWATCH_POLL_INTERVAL_SECONDS": "0"}
            local["FAREWATCH_DATA_DIR"] = str(work / "data")
            stack_log = work / "stack.log"
            stack.enter_context(
                background([*inside, python, "-m", "farewatch_local"], stack_log, {**project, **local})
            )
            wait_for("the local stack", stack_log, logged(stack_log, "Ctrl-C stops everything"))

            say("starting `sam local start-api` (each function in a Lambda container)")
            serve = [
                "--host",
                "127.0.0.1",
                "--port",
                "3000",
                "--warm-containers",
                "LAZY",
                "--region",
                "us-east-1",
            ]
            containers = ["--env-vars", "env.json", "--add-host", "host.docker.internal:172.17.0.1"]
            api = [sam, "local", "start-api", *serve, *containers, "--skip-pull-image"]
            api_log = work / "start-api.log"
            stack.enter_context(background([*inside, *api], api_log, env))
            wait_for("sam local start-api", api_log, logged(api_log, "Running on http://127.0.0.1:3000"))

            say("running the smoke suite through sam local")
            suite_file = str(ROOT / "tests/sam_local/smoke_suite.py")
            pytest = [python, "-m", "pytest", "-p", "no:cacheprovider", "-q", suite_file]
            suite = subprocess.run([*inside, *pytest], env=project, cwd=ROOT, check=False)
            if suite.returncode != 0:
                for log in (api_log, stack_log):
                    print(
                        f"--- the end of {log.name} ---\n{log.read_text(errors='replace')[-6000:]}",
                        flush=True,
                    )
            verdict = "passed" if suite.returncode == 0 else "FAILED"
            say(f"{verdict} in {time.monotonic() - started:.0f} s; stopping everything it started")
            return suite.returncode
    finally:
        for mount in reversed(Path("/proc/self/mounts").read_text().splitlines()):
            if mount.split()[1].startswith(str(work)):  # left by a dockerd that did not stop cleanly
                subprocess.run(["umount", "-l", mount.split()[1]], check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
