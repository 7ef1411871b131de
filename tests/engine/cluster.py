"""A Spark standalone cluster on loopback, started with pyspark's own launcher (``bin/spark-class``): one master
and N workers, for the tests and benchmarks that run revalign on ``spark://127.0.0.1:<port>``.

pyspark's wheel ships ``bin/spark-class`` but not ``sbin/start-master.sh``, so the daemons are started as the
scripts would start them (``spark-class org.apache.spark.deploy.master.Master`` …), each in its own process
group, and stopped by those groups' ids.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"Spark daemon exited ({process.returncode}):\n{log.read_text(errors='replace')[-3000:]}"
            )
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise RuntimeError(f"Spark daemon did not listen on {port} in {timeout:g} s:\n{log.read_text()[-3000:]}")


def _wait_for_workers(log: Path, workers: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count("Registering worker") >= workers:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{workers} worker(s) did not register in {timeout:g} s:\n{log.read_text()[-3000:]}")


@dataclass
class Cluster:
    """A running standalone cluster: its master URL and the daemons' processes."""

    url: str
    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """The environment of a driver process on this cluster (loopback; this interpreter for Python workers)."""
        return {**os.environ, **_daemon_env(self.folder), "PYSPARK_PYTHON": sys.executable}

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _daemon_env(folder: Path, memory: str = "384m") -> dict[str, str]:
    return {
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_DAEMON_MEMORY": memory,  # the daemon's own heap (a Connect server's driver too)
        "SPARK_WORKER_DIR": str(folder / "work"),
        "SPARK_LOG_DIR": str(folder / "logs"),
    }


def _daemon(folder: Path, name: str, *args: str, memory: str = "384m") -> tuple[subprocess.Popen[bytes], Path]:
    log = folder / f"{name}.log"
    env = {**os.environ, **_daemon_env(folder, memory)}
    command = [str(SPARK_HOME / "bin" / "spark-class"), *args]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return process, log


def start_cluster(folder: Path, *, workers: int = 1, cores: int = 1, memory: str = "1g") -> Cluster:
    """Start a master and ``workers`` workers (``cores`` cores and ``memory`` each) on loopback."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    master, master_log = _daemon(
        folder, "master", "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
        "--webui-port", str(free_port()),
    )  # fmt: skip
    cluster = Cluster(f"spark://127.0.0.1:{port}", folder, [master])
    try:
        _wait_for_port(port, master, master_log)
        for i in range(workers):
            worker, _ = _daemon(
                folder, f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                "--webui-port", str(free_port()), "--cores", str(cores), "--memory", memory, cluster.url,
            )  # fmt: skip
            cluster.processes.append(worker)
        _wait_for_workers(master_log, workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_for_log(log: Path, process: subprocess.Popen[bytes], text: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Spark exited ({process.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        if text in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise RuntimeError(f"Spark did not log {text!r} in {timeout:g} s:\n{log.read_text(errors='replace')[-3000:]}")


def start_connect_server(folder: Path, *, master: str = "local[1]", memory: str = "1g") -> Cluster:
    """Start a Spark Connect server on loopback (``spark-submit`` of ``SparkConnectServer``, as Spark's
    ``sbin/start-connect-server.sh`` does); its URL is ``sc://127.0.0.1:<port>``."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server, log = _daemon(
        folder, "connect", "org.apache.spark.deploy.SparkSubmit",
        "--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", master,
        "--conf", f"spark.connect.grpc.binding.port={port}", "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", "spark.ui.enabled=false", "--driver-memory", memory,
        "--conf", f"spark.sql.warehouse.dir={folder / 'warehouse'}", "spark-internal", memory=memory,
    )  # fmt: skip
    running = Cluster(f"sc://127.0.0.1:{port}", folder, [server])
    try:
        _wait_for_log(log, server, "Spark Connect server started")
    except BaseException:
        running.stop()
        raise
    return running
