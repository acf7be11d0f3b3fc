"""Run a sweep's trials on local processes, in-process, or on a Dask cluster.

The driver (the process that calls :func:`run_sweep`) owns the result store.
Workers receive a trial as plain data, rebuild its instance from (N, α, seed)
with :mod:`stochsyn.problems`, run :func:`stochsyn.solvers.solve` and return a
plain dict; the driver commits it at once (one transaction per trial), so
whatever finished before a Ctrl-C, a killed worker or a killed driver is kept.
A rerun of the same grid skips every trial whose key is already stored.

Schedulers (``scheduler=``):

- ``None`` or ``"processes"`` — a local pool of ``workers`` spawned processes
  (default: one per available core). A worker that dies (OOM killer, ``kill -9``)
  breaks the pool; the driver starts a new pool for the unfinished trials, at
  most ``max_restarts`` times.
- ``"serial"`` — in the calling process, one trial after another (debugging).
- ``"local:K"`` — a Dask ``LocalCluster`` of K single-threaded worker processes
  on 127.0.0.1 (reached over loopback TCP), started and closed by the sweep.
- ``"tcp://HOST:PORT"`` — an existing Dask scheduler; its workers need the same
  stochsyn installed (and any plugin importable). Dask reschedules the trials
  of a worker that dies.

The spawned pool and ``local:K`` start fresh Python processes, so a script that
calls :func:`run_sweep` needs the usual ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import traceback
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Callable, Sequence

from .grid import Grid, Trial, load_plugins, solver_seed
from .store import ResultStore

__all__ = ["Outcome", "SweepSummary", "run_trial", "run_sweep", "parse_scheduler", "default_workers"]


@dataclass(frozen=True)
class Outcome:
    """What the driver learned about one trial.

    Attributes:
        trial: the trial.
        row: the stored row (None when the solver raised).
        error: one-line error text when the solver raised, else None.
        stored: True when the row was newly written (False for a duplicate key).
    """

    trial: Trial
    row: dict[str, Any] | None
    error: str | None
    stored: bool


@dataclass(frozen=True)
class SweepSummary:
    """Counts of a finished (or interrupted) :func:`run_sweep` call."""

    total: int
    skipped: int
    completed: int
    solved: int
    failed: int
    seconds: float


# Trials with at least this many pattern entries generate their instance packed.
_PACK_FROM_ENTRIES = 1 << 24


def default_workers() -> int:
    """Number of cores this process may use (``os.sched_getaffinity`` where available)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parse_scheduler(scheduler: str | None) -> tuple[str, int | str | None]:
    """``scheduler`` → ``(kind, arg)`` with kind in processes/serial/local/tcp.

    Raises:
        ValueError: for anything but None, ``processes``, ``serial``,
            ``local:K`` (K ≥ 1) or ``tcp://HOST:PORT``.
    """
    if scheduler is None or scheduler == "processes":
        return "processes", None
    if scheduler == "serial":
        return "serial", None
    if scheduler.startswith("local:"):
        k = scheduler.split(":", 1)[1]
        if not k.isdigit() or int(k) < 1:
            raise ValueError(f"scheduler 'local:K' needs an integer K >= 1, got scheduler={scheduler!r}")
        return "local", int(k)
    if scheduler.startswith("tcp://"):
        rest = scheduler[len("tcp://"):]
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"scheduler address must look like tcp://HOST:PORT, got scheduler={scheduler!r}")
        return "tcp", scheduler
    raise ValueError(
        f"unknown scheduler={scheduler!r}; expected 'processes' (default), 'serial', 'local:K' or 'tcp://HOST:PORT'"
    )


def run_trial(trial: dict[str, Any], plugins: Sequence[str] = ()) -> dict[str, Any]:
    """Run one trial (worker side) and return its result row as plain data.

    The instance is ``random_patterns(N, α, seed)`` (``teacher_student`` for
    problem ``"teacher"``), stored packed from P·N ≥ 2²⁴ entries (the same
    instance, one bit per entry); the solver is called through
    :func:`stochsyn.solvers.solve` (which re-verifies the weights) with seed
    :func:`~stochsyn.experiments.grid.solver_seed` ``(seed)``. Exceptions of the
    solver propagate.
    """
    import hashlib

    import numpy as np

    from .. import __version__
    from ..problems import n_patterns, random_patterns, teacher_student
    from ..solvers import get_solver, solve

    load_plugins(plugins)
    t = Trial.from_dict(trial)
    generator = {"random": random_patterns, "teacher": teacher_student}[t.problem]
    # large instances are generated packed: the same patterns at one bit per entry
    packed = t.n * n_patterns(t.n, t.alpha) >= _PACK_FROM_ENTRIES
    instance = generator(t.n, t.alpha, seed=t.seed, packed=packed)
    options = json.loads(t.options_json)
    sseed = solver_seed(t.seed)
    res = solve(instance, method=t.solver, seed=sseed, **options)
    code = _source_digest(get_solver(t.solver))
    weights = np.ascontiguousarray(res.weights, dtype=np.int8)
    return {
        "key": t.key,
        "solver": t.solver,
        "options": t.options_json,
        "problem": t.problem,
        "n": t.n,
        "alpha": t.alpha,
        "p": instance.p,
        "seed": t.seed,
        "solver_seed": sseed,
        "solved": int(bool(res.solved)),
        "errors": int(res.errors),
        "epochs": int(res.epochs),
        "seconds": float(res.seconds),
        "weights_sha256": hashlib.sha256(weights.tobytes()).hexdigest(),
        "zero_fraction": float(np.mean(weights == 0)),
        "version": __version__,
        "solver_code": code,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


def _source_digest(fn: Any) -> str:
    """First 16 hex digits of the SHA-256 of the file defining ``fn`` ('' if unknown)."""
    import hashlib
    import inspect

    try:
        path = inspect.getsourcefile(inspect.unwrap(fn))
        with open(path, "rb") as fh:  # type: ignore[arg-type]
            return hashlib.sha256(fh.read()).hexdigest()[:16]
    except (TypeError, OSError):
        return ""


def _run_trial_safe(trial: dict[str, Any], plugins: Sequence[str] = ()) -> dict[str, Any]:
    """:func:`run_trial`, with a solver exception turned into data (it is recorded, not fatal)."""
    try:
        return {"ok": True, "row": run_trial(trial, plugins)}
    except Exception as exc:  # noqa: BLE001 - any solver error becomes a recorded failure
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"ok": False, "error": last, "host": socket.gethostname()}


def _die_with_parent(parent_pid: int) -> None:
    # Linux: ask the kernel to SIGKILL this worker when the driver dies (even by
    # SIGKILL), so no orphan keeps computing a trial nobody will store.
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(1)


def _init_pool_worker(threads: int, parent_pid: int) -> None:
    _die_with_parent(parent_pid)
    # The driver handles Ctrl-C and terminates workers itself; a worker that also
    # received SIGINT would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # K workers × all-cores BLAS/numba threads would oversubscribe the machine.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


def run_sweep(
    grid: Grid,
    store: ResultStore,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    threads_per_worker: int = 1,
    max_restarts: int = 3,
    on_start: Callable[[int, int], None] | None = None,
    on_result: Callable[[Outcome], None] | None = None,
) -> SweepSummary:
    """Run every trial of ``grid`` not yet in ``store``, storing each as it finishes.

    Args:
        grid: the validated grid.
        store: the result store (written only by this process).
        scheduler: where trials run; see the module docstring. Default None
            (local process pool).
        workers: pool size for the local pool. Default: the available cores.
            Ignored by the Dask schedulers (``local:K`` sets K itself).
        threads_per_worker: BLAS/numba threads per local pool worker. Default 1.
        max_restarts: how often a local pool broken by a dying worker is
            restarted before giving up with RuntimeError. Default 3.
        on_start: called once as ``on_start(pending, skipped)`` before any trial runs.
        on_result: called with an :class:`Outcome` after each trial is stored
            (progress bars hook here). An exception it raises (e.g.
            KeyboardInterrupt) stops the sweep; stored rows stay.

    Returns:
        A :class:`SweepSummary`. KeyboardInterrupt propagates after workers are
        stopped; every finished trial is already committed.
    """
    kind, arg = parse_scheduler(scheduler)
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1, got workers={workers!r}")
    if not isinstance(threads_per_worker, int) or threads_per_worker < 1:
        raise ValueError(f"threads_per_worker must be an integer >= 1, got {threads_per_worker!r}")
    if not isinstance(max_restarts, int) or max_restarts < 0:
        raise ValueError(f"max_restarts must be an integer >= 0, got {max_restarts!r}")
    t0 = time.perf_counter()
    trials = grid.trials()
    done = store.finished_keys()
    todo = [t for t in trials if t.key not in done]
    skipped = len(trials) - len(todo)
    counts = {"completed": 0, "solved": 0, "failed": 0}
    plugins = tuple(grid.plugins)

    def handle(trial: Trial, out: dict[str, Any]) -> None:
        if out.get("ok"):
            row = out["row"]
            stored = store.add(row)
            counts["completed"] += 1
            counts["solved"] += int(row["solved"])
            outcome = Outcome(trial, row, None, stored)
        else:
            store.add_failure({**trial.to_dict(), "key": trial.key}, out["error"], out.get("host", ""))
            counts["failed"] += 1
            outcome = Outcome(trial, None, out["error"], False)
        if on_result is not None:
            on_result(outcome)

    if on_start is not None:
        on_start(len(todo), skipped)
    if todo:
        if kind == "serial":
            for t in todo:
                handle(t, _run_trial_safe(t.to_dict(), plugins))
        elif kind == "processes":
            _run_pool(todo, plugins, workers or default_workers(), threads_per_worker, max_restarts, handle)
        else:
            _run_dask(todo, plugins, kind, arg, handle)
    return SweepSummary(
        total=len(trials),
        skipped=skipped,
        completed=counts["completed"],
        solved=counts["solved"],
        failed=counts["failed"],
        seconds=time.perf_counter() - t0,
    )


def _kill_pool(ex: ProcessPoolExecutor) -> None:
    # ProcessPoolExecutor (Python 3.11) has no public way to stop running tasks;
    # without this, interpreter exit would wait for every running trial to end.
    procs = list(getattr(ex, "_processes", {}).values())
    for p in procs:
        if p.is_alive():
            p.kill()
    ex.shutdown(wait=True, cancel_futures=True)


def _run_pool(
    todo: list[Trial],
    plugins: tuple[str, ...],
    workers: int,
    threads: int,
    max_restarts: int,
    handle: Callable[[Trial, dict[str, Any]], None],
) -> None:
    pending = {t.key: t for t in todo}
    restarts = 0
    ctx = get_context("spawn")  # fork would copy the driver's threads and locks
    while pending:
        ex = ProcessPoolExecutor(
            max_workers=min(workers, len(pending)), mp_context=ctx, initializer=_init_pool_worker, initargs=(threads, os.getpid())
        )
        broken = False
        try:
            futures = {ex.submit(_run_trial_safe, t.to_dict(), plugins): t for t in pending.values()}
            for fut in as_completed(futures):
                t = futures[fut]
                exc = fut.exception()
                if exc is not None:
                    if isinstance(exc, BrokenProcessPool):
                        broken = True
                        continue
                    raise exc
                del pending[t.key]
                handle(t, fut.result())
        except BaseException:
            _kill_pool(ex)
            raise
        ex.shutdown(wait=True)
        if broken and pending:
            restarts += 1
            if restarts > max_restarts:
                raise RuntimeError(
                    f"a worker process died {restarts} times (killed, or out of memory); "
                    f"{len(pending)} trials left unfinished, finished trials are stored"
                )


def _run_dask(
    todo: list[Trial],
    plugins: tuple[str, ...],
    kind: str,
    arg: Any,
    handle: Callable[[Trial, dict[str, Any]], None],
) -> None:
    from distributed import Client, LocalCluster
    from distributed import as_completed as dask_as_completed

    cluster = None
    if kind == "local":
        cluster = LocalCluster(
            n_workers=int(arg),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        # connect by address, exactly as for an external scheduler
        client = Client(cluster.scheduler_address)
    else:
        try:
            client = Client(arg, timeout="20s")
        except OSError as exc:
            raise ValueError(f"cannot connect to the Dask scheduler at {arg}: {exc}") from None
    # A fresh token per run, so results cached on a long-lived cluster are never reused.
    token = uuid.uuid4().hex[:8]
    futures = []
    try:
        by_key = {}
        for t in todo:
            key = f"stochsyn-trial-{t.short_id}-{token}"
            fut = client.submit(_run_trial_safe, t.to_dict(), plugins, key=key, pure=False)
            by_key[fut.key] = t
            futures.append(fut)
        for fut in dask_as_completed(futures):
            t = by_key[fut.key]
            if fut.status == "error":
                # e.g. KilledWorker: the trial crashed its worker several times
                err = fut.exception()
                out = {"ok": False, "error": f"{type(err).__name__}: {err}", "host": ""}
            else:
                out = fut.result()
            fut.release()
            handle(t, out)
    finally:
        if futures:
            client.cancel(futures)
        client.close()
        if cluster is not None:
            cluster.close()
