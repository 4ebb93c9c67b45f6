"""Where inference runs: torch threads from the container's CPU limit, CUDA when present.

A pod limited to 2 CPUs on a 64-core node must not start 64 intra-op threads (they would
thrash against the CFS quota), so the thread count comes from the cgroup limit first. torch is
imported only by the functions that configure it: the server process in process mode sizes its
worker pools from here without importing torch (only the workers run models).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

THREADS_ENV = "FLORAI_TORCH_THREADS"
CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def cgroup_cpu_limit(
    cpu_max: Path = CGROUP_V2_CPU_MAX, v1_quota: Path = CGROUP_V1_QUOTA, v1_period: Path = CGROUP_V1_PERIOD
) -> float | None:
    """CPUs allowed by the cgroup quota (v2 ``cpu.max``, then v1 CFS files); None when unlimited."""
    text = _read(cpu_max)
    if text:
        quota, _, period = text.partition(" ")
        if quota != "max" and period:
            return int(quota) / int(period)
        return None
    quota_text, period_text = _read(v1_quota), _read(v1_period)
    if quota_text and period_text and int(quota_text) > 0:
        return int(quota_text) / int(period_text)
    return None


def available_cpus() -> int:
    """CPUs this process may use: the cgroup limit (rounded up), else the affinity mask, else cpu_count."""
    limit = cgroup_cpu_limit()
    if limit is not None:
        return max(1, math.ceil(limit))
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def torch_threads() -> int:
    """Intra-op threads for the forward pass: FLORAI_TORCH_THREADS, else the available CPUs."""
    override = os.environ.get(THREADS_ENV)
    if override:
        try:
            value = int(override)
        except ValueError as exc:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {override!r}") from exc
        if value < 1:
            raise ValueError(f"{THREADS_ENV} must be a positive integer, got {override!r}")
        return value
    return available_cpus()


def configure_torch() -> int:
    """Apply the thread count to torch (once per process); returns it."""
    import torch

    threads = torch_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def default_processes(device: str, models: int, total_threads: int) -> int:
    """Worker processes per model when FLORAI_INFERENCE_PROCESSES is unset: on CPU, one per thread
    of the model's share of the budget (single-threaded children taking whole batches beat one
    child's thread team; florai.inference.worker.WorkerPool); on a GPU, one (one CUDA context)."""
    if device != "cpu":
        return 1
    return max(1, total_threads // max(1, models))


# Present on a machine with the NVIDIA driver loaded: a hint the server process reads without torch.
NVIDIA_DRIVER_FILE = Path("/proc/driver/nvidia/version")


def device_hint(requested: str | None) -> str:
    """The device a worker will pick (``select_device``), guessed without importing torch: the
    requested one, else "cuda" when the NVIDIA driver is loaded, else "cpu"."""
    if requested:
        return requested
    return "cuda" if NVIDIA_DRIVER_FILE.exists() else "cpu"


def select_device(requested: str | None = None) -> str:
    """``requested`` when given (e.g. "cpu", "cuda:1"), else "cuda" when a GPU is visible, else "cpu"."""
    import torch

    if requested:
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"device {requested!r} requested but CUDA is not available")
        return requested
    return "cuda" if torch.cuda.is_available() else "cpu"


class ForwardThreads:
    """Intra-op threads per forward pass of an in-process model, set in the thread that runs it
    (OpenMP settings are per thread).

    A lone image runs on one thread: in the server's process the OpenMP threads compete with the
    event loop for the GIL between ops, and waking a second one after an idle gap costs more
    than it saves (measured in the server process: p50 12.9 ms vs 19.8 ms per forward). A worker
    process has no such neighbour (florai.inference.worker.WorkerPool.threads_for).
    """

    def __init__(self, batch_threads: int, device: str) -> None:
        self.batch_threads = batch_threads
        self.device = device
        self._current = 0

    @staticmethod
    def for_batch(batch_size: int, available: int) -> int:
        """Threads for a forward pass of ``batch_size`` images when ``available`` may be used."""
        return 1 if batch_size == 1 else available

    def apply(self, batch_size: int) -> None:
        import torch

        threads = self.for_batch(batch_size, self.batch_threads)
        if threads != self._current and self.device == "cpu":
            torch.set_num_threads(threads)
            self._current = threads
