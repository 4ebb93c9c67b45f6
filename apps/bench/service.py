"""(b) The real service over HTTP on loopback: ``python -m florai`` as a subprocess, driven at a
fixed concurrency by a lean keep-alive client (bench.loopback_http), bounded by count and time."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.loopback_http import KeepAliveConnection, predictions_of
from bench.photos import unique_variant
from florai.contract import API_KEY_HEADER, API_PREFIX, READY_PATH, TASK_IDENTIFY
from florai.inference.runtime import THREADS_ENV

BENCH_API_KEY = "bench-key-not-a-secret"
READY_TIMEOUT_S = 120.0
STOP_GRACE_S = 10.0
# The bench measures inference, not the per-key rate limiter: lift it far above any reachable rate.
UNLIMITED_RATE = "1000000"


@dataclass(frozen=True)
class LoadResult:
    concurrency: int
    completed: int
    errors: int
    seconds: float
    latencies_s: tuple[float, ...]
    # CPU milliseconds per request over the whole run (warm-up included), client and server.
    client_cpu_ms: float
    server_cpu_ms: float

    @property
    def images_per_s(self) -> float:
        return self.completed / self.seconds

    @classmethod
    def pooled(cls, rounds: list[LoadResult]) -> LoadResult:
        """Several rounds at one concurrency as one result (CPU per request weighted by requests)."""
        requests = [r.completed + r.errors or 1 for r in rounds]
        total = sum(requests)
        return cls(
            concurrency=rounds[0].concurrency,
            completed=sum(r.completed for r in rounds),
            errors=sum(r.errors for r in rounds),
            seconds=sum(r.seconds for r in rounds),
            latencies_s=tuple(x for r in rounds for x in r.latencies_s),
            client_cpu_ms=sum(r.client_cpu_ms * n for r, n in zip(rounds, requests, strict=True)) / total,
            server_cpu_ms=sum(r.server_cpu_ms * n for r, n in zip(rounds, requests, strict=True)) / total,
        )

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        if not ordered:
            return float("nan")
        return 1000 * ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Service:
    base_url: str
    pid: int  # the server's main process, which leads its own process group (with its workers)
    request_path: str = f"{API_PREFIX}/identify"

    def pause(self) -> None:
        """Stop every process of the server (SIGSTOP to its group): an idle server that polls its
        queues (LitServe's do) must not take CPU from the one being measured."""
        os.killpg(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.pid, signal.SIGCONT)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SERVICE_COMMAND = (sys.executable, "-m", "florai")
# (d) the floor: the service's serving parts without the app (bench.floor).
FLOOR_COMMAND = (sys.executable, str(Path(__file__).with_name("floor.py")))
# (f) LitServe serving the same artifact (bench.litserve_peer).
LITSERVE_COMMAND = (sys.executable, str(Path(__file__).with_name("litserve_peer.py")))


@dataclass(frozen=True)
class Peer:
    """A server the bench drives: how to start it, when it is ready, where it takes an image."""

    name: str
    command: tuple[str, ...]
    ready_path: str = READY_PATH
    request_path: str = f"{API_PREFIX}/identify"


SERVICE = Peer("service", SERVICE_COMMAND)
FLOOR = Peer("floor", FLOOR_COMMAND)
LITSERVE = Peer("litserve", LITSERVE_COMMAND, ready_path="/health", request_path="/predict")


@contextmanager
def running_service(
    models: Path,
    max_batch_size: int,
    torch_threads: int | None = None,
    peer: Peer = SERVICE,
    services: str = TASK_IDENTIFY,
) -> Iterator[Service]:
    """Start ``peer`` (``python -m florai`` serving ``services``, identify by default, unless another
    peer) on a free loopback port with the service's environment; yield it once it is ready."""
    port = free_port()
    threads = {THREADS_ENV: str(torch_threads)} if torch_threads else {}
    with tempfile.TemporaryDirectory(prefix="florai-bench-") as data:
        env = {
            **os.environ,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "FLORAI_SERVICES": services,
            "FLORAI_MODELS_DIR": str(models),
            "FLORAI_DATA_DIR": data,
            "FLORAI_API_KEY": BENCH_API_KEY,
            "FLORAI_MAX_BATCH_SIZE": str(max_batch_size),
            "FLORAI_RATE_LIMIT_PER_S": UNLIMITED_RATE,
            "FLORAI_RATE_LIMIT_BURST": UNLIMITED_RATE,
            "FLORAI_LOG_LEVEL": "WARNING",
            **threads,
        }
        log_path = Path(data) / "server.log"
        with log_path.open("wb") as log:
            # Its own process group: the server and every process it starts are stopped together.
            server = subprocess.Popen(
                list(peer.command), env=env, stdout=log, stderr=log, start_new_session=True
            )
            base = f"http://127.0.0.1:{port}"
            try:
                wait_ready(base + peer.ready_path, server, log_path)
                yield Service(base, server.pid, peer.request_path)
            finally:
                stop_group(server)


def stop_group(server: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL to what is left of it after a grace period."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGCONT)  # a paused group cannot handle SIGTERM
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and _group_alive(server.pid):
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # children that outlived their parent (LitServe's do)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_ready(ready_url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the service exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
        try:
            if httpx.get(ready_url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"the service was not ready within {READY_TIMEOUT_S:.0f} s:\n{log_path.read_text()[-3000:]}"
    )


MULTIPART_BOUNDARY = "florai-bench-boundary"
# One sequence for every run of the process, so no request repeats an earlier body (a cache hit).
SERIALS = itertools.count()


def multipart_jpeg(jpeg: bytes) -> bytes:
    """A multipart/form-data body with the image as part ``file`` (built by hand: cheap for the client)."""
    head = (
        f"--{MULTIPART_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="leaf.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + jpeg + f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()


async def drive(
    service: Service,
    photos: list[bytes],
    concurrency: int,
    seconds: float,
    max_requests: int,
    warmup_s: float,
    path: str | None = None,
) -> LoadResult:
    """``concurrency`` workers post unique JPEGs back to back for ``warmup_s + seconds``.

    Throughput counts responses completed inside the measured window; latencies are those of the
    requests sent inside it. The client runs on the same CPUs as the server.
    """
    # (sent, done, ok) of every request, warm-up included.
    records: list[tuple[float, float, bool]] = []
    host, port = service.base_url.removeprefix("http://").rsplit(":", 1)
    headers = {
        API_KEY_HEADER: BENCH_API_KEY,
        "Content-Type": f"multipart/form-data; boundary={MULTIPART_BOUNDARY}",
    }
    client_cpu, server_cpu = time.process_time(), service.cpu_seconds()
    url = path or service.request_path
    measure_from = time.perf_counter() + warmup_s
    stop_at = measure_from + seconds

    async def worker() -> None:
        connection = KeepAliveConnection(host, int(port))
        try:
            while time.perf_counter() < stop_at and len(records) < max_requests:
                n = next(SERIALS)
                body = multipart_jpeg(unique_variant(photos[n % len(photos)], n))
                sent = time.perf_counter()
                status, answer = await asyncio.wait_for(connection.post(url, headers, body), 60)
                done = time.perf_counter()
                # Spot-check that the answers are real predictions, not just 200s.
                ok = status == 200 and (n % 64 or bool(predictions_of(answer)))
                records.append((sent, done, bool(ok)))
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    client_cpu_ms = 1000 * (time.process_time() - client_cpu) / len(records)
    server_cpu_ms = 1000 * (service.cpu_seconds() - server_cpu) / len(records)
    measured = [r for r in records if r[0] >= measure_from]
    window_end = min(stop_at, max(done for _, done, _ in records))
    completed = sum(1 for _, done, ok in records if ok and measure_from <= done <= window_end)
    latencies = tuple(done - sent for sent, done, ok in measured if ok)
    errors = sum(1 for _, _, ok in measured if not ok)
    return LoadResult(
        concurrency, completed, errors, window_end - measure_from, latencies, client_cpu_ms, server_cpu_ms
    )
