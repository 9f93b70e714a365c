"""The fault suite, part 2: the Dask executor when the cluster misbehaves.

Each case runs against a Dask ``LocalCluster`` on this machine (one shared by
the cases that leave it as they found it, a fresh one where workers are killed
or their software is changed) and a throw-away book, and checks what the user
sees (the message, the exit code, how long it took) and what is left behind
(no kernel still running, nothing recorded of a job that did not finish, a
worker that is still usable).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from importlib import metadata

import psutil
import pytest
import yaml
from conftest import one_sentence, run_cli

from cloudpad.pipeline import cache, manifest
from cloudpad.pipeline.executors.dask import DaskExecutor
from cloudpad.pipeline.project import Project

PARAMS = "n = 2  # count, 0..1000: items"
GOOD = "x = n * 2\nprint(x)"
#: Writes the kernel's process id, then waits: a job that is still running when it is read.
HANGS = "import os, time\nopen('../kernel.txt', 'w').write(str(os.getpid()))\ntime.sleep(120)"


def cloudpad(book: Project, *args: str) -> list[str]:
    return [sys.executable, "-m", "cloudpad", "--root", str(book.root), *args]


def wait_for(condition, seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskExecutor]:
    """A LocalCluster of one single-threaded worker, shared by the module's gentler cases."""
    executor = DaskExecutor(workers=1)
    executor.client.wait_for_workers(1)
    yield executor
    executor.close()


@pytest.fixture
def fresh_cluster() -> Iterator[DaskExecutor]:
    """A LocalCluster of two workers for one case that kills workers or changes their software."""
    executor = DaskExecutor(workers=2)
    executor.client.wait_for_workers(2)
    yield executor
    executor.close()


def address(executor: DaskExecutor) -> str:
    return executor.client.scheduler.address


def on(executor: DaskExecutor) -> tuple[str, str]:
    """The command-line options that run on ``executor``'s cluster."""
    return ("--scheduler", address(executor))


def worker_pids(executor: DaskExecutor) -> dict[str, int]:
    return executor.client.run(os.getpid)


# --- the whole-notebook limit on a worker -------------------------------------------------------


def test_whole_notebook_limit_holds_on_a_dask_worker(make_book, capsys, cluster):
    first = "import os, time\nopen('../kernel.txt', 'w').write(str(os.getpid()))\ntime.sleep(1.5)"
    cells = [first] + ["import time\ntime.sleep(1.5)"] * 5  # each cell within its own timeout
    book = make_book({"long": (PARAMS, cells), "fine": (PARAMS, [GOOD])}, timeout=60)
    config = yaml.safe_load(book.config_path.read_text())
    config["execute"]["notebook_timeout"] = 3
    book.config_path.write_text(yaml.safe_dump(config))
    workers = worker_pids(cluster)
    started = time.monotonic()
    code, text = run_cli(
        book, capsys, "run", "notebooks/long.ipynb", "--scheduler", address(cluster)
    )
    assert code == 1 and time.monotonic() - started < 8, text  # 3 s, not the notebook's 9 s
    assert "FAILED notebooks/long.ipynb, cell" in text
    assert "NotebookTimeout: the whole notebook exceeded its wall-clock limit" in text
    assert "its kernel was stopped" in text
    assert gone(int((book.root / "kernel.txt").read_text()))
    assert cache.load_record(book, book.root / "notebooks" / "long.ipynb") is None
    assert worker_pids(cluster) == workers  # the same worker process, and it takes the next job
    code, text = run_cli(
        book, capsys, "run", "notebooks/fine.ipynb", "--scheduler", address(cluster)
    )
    assert code == 0 and "1 executed" in text, text


# --- a scheduler that cannot be reached ---------------------------------------------------------


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"tcp://127.0.0.1:{port}"


def _listening(sockets: list[socket.socket]) -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    sockets.append(server)
    return server


def _silent_port(sockets: list[socket.socket]) -> str:
    """A port that accepts connections and never says anything (a hung scheduler)."""
    return f"tcp://127.0.0.1:{_listening(sockets).getsockname()[1]}"


def _other_service(sockets: list[socket.socket]) -> str:
    """A port where something that is not a Dask scheduler answers (a web server)."""
    server = _listening(sockets)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
            sockets.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}"


UNREACHABLE = {
    "closed-port": (lambda s: _closed_port(), "within 2 s (connection refused)"),
    "accepts-and-never-answers": (_silent_port, "within 2 s (no answer)"),
    "not-a-dask-scheduler": (_other_service, "is not a Dask scheduler (it answered with"),
    "malformed-address": (lambda s: "tcp//scheduler", "is not a Dask scheduler address"),
}


@pytest.mark.parametrize("case", list(UNREACHABLE), ids=list(UNREACHABLE))
def test_an_unreachable_scheduler_is_one_sentence_within_the_timeout(make_book, capsys, case):
    make_address, expected = UNREACHABLE[case]
    sockets: list[socket.socket] = []
    try:
        scheduler = make_address(sockets)
        book = make_book({"a": (PARAMS, [GOOD])})
        started = time.monotonic()
        code, text = run_cli(
            book, capsys, "run", "--scheduler", scheduler, "--connect-timeout", "2"
        )
        elapsed = time.monotonic() - started
    finally:
        for s in sockets:
            s.close()
    assert code == 2 and elapsed < 2 + 6, (elapsed, text)
    assert text.startswith("error: ") and scheduler in text and expected in text, text
    one_sentence(text)
    assert not book.executed_dir.exists()  # no kernel started


# --- a worker that dies while it runs a job -----------------------------------------------------

#: Records which worker runs it (the kernel's parent) and its kernel, then waits unless it has
#: already been tried ``kills`` times.
VICTIM = (
    "import os, pathlib, time\n"
    "tries = pathlib.Path('../tries.txt')\n"
    "tries.open('a').write(f'{os.getppid()} {os.getpid()}\\n')\n"
    "if len(tries.read_text().splitlines()) <= %d:\n"
    "    time.sleep(120)"
)


@pytest.mark.parametrize("kills", [1, 2], ids=["killed-once-retried-elsewhere", "killed-twice"])
def test_a_worker_dying_mid_job(make_book, fresh_cluster, kills):
    book = make_book({"victim": (PARAMS, [VICTIM % kills, GOOD])})
    run = subprocess.Popen(
        cloudpad(book, "run", "--scheduler", address(fresh_cluster)),
        stderr=subprocess.PIPE,
        text=True,
    )
    tries = book.root / "tries.txt"

    def lines() -> list[list[int]]:
        text = tries.read_text() if tries.exists() else ""
        return [list(map(int, line.split())) for line in text.splitlines()]

    killed, kernels = [], []
    for attempt in range(1, kills + 1):
        wait_for(lambda a=attempt: len(lines()) >= a, what=f"try {attempt} of the job")
        worker, kernel = lines()[attempt - 1]
        killed.append({pid: a for a, pid in worker_pids(fresh_cluster).items()}[worker])
        kernels.append(kernel)
        os.kill(worker, signal.SIGKILL)
    code = run.wait(timeout=120)
    text = run.stderr.read()
    record = cache.load_record(book, book.root / "notebooks" / "victim.ipynb")
    entry = manifest.read(book.manifest_path)["notebooks"][0]
    if kills == 1:  # tried again on another worker, once, and it finished there
        assert code == 0, text
        assert len(lines()) == 2 and lines()[0][0] != lines()[1][0]
        assert entry["status"] == "executed" and record is not None
    else:  # died twice: reported with the worker's address; nothing of it recorded
        assert code == 1, text
        assert (
            f"FAILED notebooks/victim.ipynb, before any cell ran: WorkerDied: the Dask worker "
            f"{killed[-1]} died while running it, after 1 other worker(s) had" in text
        )
        assert entry["status"] == "failed" and record is None
        assert not (book.executed_dir / "notebooks" / "victim.ipynb").exists()
        assert not list(book.build_dir.rglob("*.tmp"))
    wait_for(lambda: all(gone(k) for k in kernels), 10, "the killed workers' kernels to end")


# --- workers that run other software ------------------------------------------------------------


@pytest.mark.parametrize("package", ["cloudpad", "papermill"], ids=["cloudpad", "pinned-package"])
def test_workers_with_other_versions_are_refused_before_any_job(
    make_book, capsys, tmp_path, fresh_cluster, package
):
    site = tmp_path / "site"
    info = site / f"{package}-0.0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: 0.0.1\n")
    # What an out-of-date worker image looks like: an older release installed on the workers.
    fresh_cluster.client.run(exec, f"import sys; sys.path.insert(0, {str(site)!r})")
    book = make_book({"a": (PARAMS, [GOOD])})
    code, text = run_cli(book, capsys, "run", "--scheduler", address(fresh_cluster))
    assert code == 2, text
    assert "the Dask workers run other software than this client: tcp://127.0.0.1:" in text
    assert f"has {package} 0.0.1 (here {metadata.version(package)})" in text
    assert "(no job was started)" in text
    one_sentence(text)
    assert not book.executed_dir.exists() and not (book.build_dir / "logs").exists()


# --- a client that dies -------------------------------------------------------------------------


def test_a_killed_client_leaves_nothing_running_on_the_cluster(make_book, capsys, cluster):
    book = make_book({"hangs": (PARAMS, [HANGS]), "fine": (PARAMS, [GOOD])})
    workers = worker_pids(cluster)
    client = subprocess.Popen(
        cloudpad(book, "run", "notebooks/hangs.ipynb", "--scheduler", address(cluster)),
        stderr=subprocess.DEVNULL,
    )
    kernel_file = book.root / "kernel.txt"
    wait_for(kernel_file.exists, what="the job's kernel to start")
    kernel = int(kernel_file.read_text())
    client.kill()  # SIGKILL: the client cannot cancel anything itself
    client.wait()
    wait_for(lambda: gone(kernel), 15, "the cancelled job's kernel to end")
    wait_for(lambda: not any(cluster.client.processing().values()), 15, "the task to go")
    assert worker_pids(cluster) == workers  # the worker itself lives on, and is usable
    code, text = run_cli(
        book, capsys, "run", "notebooks/fine.ipynb", "--scheduler", address(cluster)
    )
    assert code == 0 and "1 executed" in text, text
    assert json.loads(book.manifest_path.read_text())["notebooks"][0]["notebook"] == (
        "notebooks/fine.ipynb"
    )
    assert not (book.executed_dir / "notebooks" / "hangs.ipynb").exists()
