"""Running sweeps: local pool, in-process, Dask LocalCluster over loopback; resume after an
interrupt, a killed worker, a failing solver; distributed rows equal local rows."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from stochsyn.cli import main
from stochsyn.experiments import ResultStore, build_grid, run_sweep, run_trial
from stochsyn.experiments.grid import solver_seed
from stochsyn.problems import random_patterns
from stochsyn.solvers import available

# A plugin registering small but genuine solvers. Workers (spawned processes, Dask
# workers) import it by path, exactly as a user's own solver module would be.
PLUGIN = textwrap.dedent(
    '''
    """Test solvers for the sweep tests."""
    import os
    import time

    import numpy as np

    from stochsyn.solvers import Result, register


    @register("sweeptest_walk")
    def walk(instance, *, seed=0, callback=None, max_iter=5000, noise=0.2, delay=0.0):
        """Focused random walk: pick an unsatisfied pattern, flip the synapse (among those
        that help it) that leaves the fewest errors, or a random helpful one with
        probability ``noise``. ``delay`` (s) sleeps first, to make trials slow in tests."""
        if delay:
            time.sleep(delay)
        rng = np.random.default_rng(seed)
        x = instance.patterns.astype(np.int64) * instance.labels.astype(np.int64)[:, None]
        w = rng.choice(np.array([-1, 1]), size=instance.n)
        stab = x @ w
        it = 0
        while it < max_iter and np.any(stab <= 0):
            mu = rng.choice(np.flatnonzero(stab <= 0))
            cand = np.flatnonzero(x[mu] * w < 0)
            if rng.random() < noise:
                i = rng.choice(cand)
            else:
                after = stab[:, None] - 2 * x[:, cand] * w[cand]
                i = cand[int(np.argmin(np.sum(after <= 0, axis=0)))]
            stab -= 2 * x[:, i] * w[i]
            w[i] = -w[i]
            it += 1
        return Result(w.astype(np.int8), bool(np.all(stab > 0)), int(np.sum(stab <= 0)), it)


    @register("sweeptest_crash_once")
    def crash_once(instance, *, seed=0, callback=None, marker_dir=""):
        """Kills its own worker process the first time it runs at P = 9, then behaves like the walk."""
        if instance.p == 9:
            try:
                fd = os.open(os.path.join(marker_dir, "crashed"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pass
            else:
                os.close(fd)
                os._exit(1)
        return walk(instance, seed=seed)


    @register("sweeptest_fail")
    def fail(instance, *, seed=0, callback=None):
        """Always raises (a broken solver)."""
        raise ValueError("this solver is broken on purpose")
    '''
)

VOLATILE = ("seconds", "host", "pid", "finished_at")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("plugin") / "sweeptest_plugin.py"
    path.write_text(PLUGIN)
    return str(path)


def _grid(plugin, solvers=("sweeptest_walk",), seeds=4, alpha="0.2,0.3", n=31, options=None):
    return build_grid(solvers=list(solvers), n=n, alpha=alpha, seeds=seeds, plugins=[plugin], options=options)


def _stable(rows):
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def _db_keys(path):
    con = sqlite3.connect(path)
    keys = [k for (k,) in con.execute("SELECT key FROM trials")]
    con.close()
    return keys


def test_run_trial_rebuilds_the_instance_and_verifies(plugin):
    g = _grid(plugin, seeds=1, alpha=0.3)
    row = run_trial(g.trials()[0].to_dict(), g.plugins)
    inst = random_patterns(31, 0.3, seed=0)
    assert row["p"] == inst.p == 9 and row["solver_seed"] == solver_seed(0)
    assert row["solved"] == 1 and row["errors"] == 0
    again = run_trial(g.trials()[0].to_dict(), g.plugins)
    assert again["weights_sha256"] == row["weights_sha256"]  # same seed, same weights
    assert len(row["solver_code"]) == 16 and row["solver_code"] == again["solver_code"]


def test_interrupt_then_resume_no_duplicate_no_missing(plugin, tmp_path):
    """Ctrl-C in the driver (a callback raising KeyboardInterrupt) while a 2-process pool
    runs; the rerun completes the grid with every key exactly once."""
    g = _grid(plugin, seeds=5)
    db = tmp_path / "r.db"
    seen = []

    def stop_after_3(outcome):
        seen.append(outcome.trial.key)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with ResultStore(db) as store, pytest.raises(KeyboardInterrupt):
        run_sweep(g, store, workers=2, on_result=stop_after_3)
    assert sorted(_db_keys(db)) == sorted(seen)
    with ResultStore(db) as store:
        summary = run_sweep(g, store, scheduler="serial")
        rows = store.rows()
    assert (summary.skipped, summary.completed, summary.total) == (3, g.size - 3, g.size)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == g.size
    assert set(keys) == {t.key for t in g.trials()}
    with ResultStore(db) as store:
        assert run_sweep(g, store).completed == 0  # nothing left to do


def test_serial_equals_pool_bit_for_bit(plugin, tmp_path):
    g = _grid(plugin, seeds=3)
    with ResultStore(tmp_path / "a.db") as a, ResultStore(tmp_path / "b.db") as b:
        run_sweep(g, a, scheduler="serial")
        run_sweep(g, b, workers=2)
        assert _stable(a.rows()) == _stable(b.rows())


def test_killed_worker_loses_nothing(plugin, tmp_path):
    """One trial kills its worker process (os._exit); the pool is restarted and the
    sweep still stores every trial once."""
    g = _grid(plugin, solvers=("sweeptest_crash_once",), seeds=3, options={"sweeptest_crash_once": {"marker_dir": str(tmp_path)}})
    with ResultStore(tmp_path / "r.db") as store:
        summary = run_sweep(g, store, workers=2)
        rows = store.rows()
    assert (tmp_path / "crashed").exists()  # the crash did happen
    assert summary.completed == g.size and summary.failed == 0
    assert sorted(r["key"] for r in rows) == sorted(t.key for t in g.trials())


def test_failing_solver_is_recorded_and_retried(plugin, tmp_path):
    g = _grid(plugin, solvers=("sweeptest_walk", "sweeptest_fail"), seeds=2, alpha=0.3)
    with ResultStore(tmp_path / "r.db") as store:
        s = run_sweep(g, store, scheduler="serial")
        assert (s.completed, s.failed) == (2, 2)
        assert store.count() == 2
        assert {f["error"] for f in store.failures()} == {"ValueError: this solver is broken on purpose"}
        s = run_sweep(g, store, scheduler="serial")
        assert (s.skipped, s.completed, s.failed) == (2, 0, 2)


def test_cli_dask_local_cluster_equals_local_then_report(plugin, tmp_path, capsys):
    """`--scheduler local:3`: a real 3-worker Dask LocalCluster reached over loopback TCP.
    Its rows (weights hash included) equal those of an in-process run of the same grid;
    a rerun skips everything; the report and plots come from the same database."""
    solvers = "sweeptest_walk" + (",stochastic" if "stochastic" in available() else "")
    db = tmp_path / "dask.db"
    grid_args = ["-s", solvers, "--plugin", plugin, "--n", "41", "--alpha", "0.2:0.4:0.1", "--seeds", "3"]
    args = ["sweep", str(db), *grid_args, "--scheduler", "local:3", "--plots", str(tmp_path / "plots"), "--json"]
    assert main(args) == 0
    size = 3 * 3 * len(solvers.split(","))
    assert f'"completed": {size}' in capsys.readouterr().out
    assert main(["sweep", str(tmp_path / "local.db"), *grid_args, "--scheduler", "serial"]) == 0
    with ResultStore(db) as d, ResultStore(tmp_path / "local.db") as loc:
        dask_rows, local_rows = d.rows(), loc.rows()
    assert len(dask_rows) == size and _stable(dask_rows) == _stable(local_rows)
    pids = {r["pid"] for r in dask_rows}
    assert len(pids) >= 2 and os.getpid() not in pids  # ran on several worker processes
    assert main(args) == 0  # a rerun skips everything
    assert f'"skipped": {size}' in capsys.readouterr().out
    for name in ("success_vs_alpha.png", "time_to_solution.png", "alpha50.png"):
        assert (tmp_path / "plots" / name).stat().st_size > 1000
    capsys.readouterr()
    assert main(["report", str(db), "--csv", str(tmp_path / "t.csv"), "--alpha50-csv", str(tmp_path / "a.csv")]) == 0
    assert "α_50" in capsys.readouterr().out
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 1 + 3 * len(solvers.split(","))
    assert main(["report", str(tmp_path / "missing.db")]) == 2


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_signal_to_cli_keeps_finished_trials_and_resumes(plugin, tmp_path, sig):
    """Ctrl-C (SIGINT) or kill -9 of a running `stochsyn sweep` (process pool): finished
    rows are kept, no worker is left running, and the same command completes the grid
    with every key exactly once."""
    db = tmp_path / "r.db"
    exe = str(Path(sys.executable).with_name("stochsyn"))
    cmd = [exe, "sweep", str(db), "-s", "sweeptest_walk", "--plugin", plugin, "--n", "31", "--alpha", "0.2,0.3",
           "--seeds", "6", "-o", "sweeptest_walk.delay=0.3", "-j", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                if len(_db_keys(db)) >= 2:
                    break
            except sqlite3.OperationalError:
                continue
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130, err.decode()
        assert b"interrupted" in err
    else:
        assert proc.returncode == -signal.SIGKILL
    keys = _db_keys(db)
    assert 2 <= len(keys) < 12 and len(set(keys)) == len(keys)
    with ResultStore(db) as store:
        pids = {r["pid"] for r in store.rows()}
    time.sleep(1.0)
    for pid in pids:  # the workers are gone (killed by the driver, or by the kernel with it)
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except FileNotFoundError:
            continue
        assert b"multiprocessing" not in cmdline, f"worker {pid} still running"
    # the resume logic does not depend on the scheduler; in-process keeps the test short
    done = subprocess.run([*cmd, "--scheduler", "serial"], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    keys2 = _db_keys(db)
    assert len(keys2) == len(set(keys2)) == 12 and set(keys) <= set(keys2)
    assert np.all([k.startswith("sweeptest_walk|") for k in keys2])


def test_report_joins_databases_and_earlier_cell_tables(plugin, tmp_path, capsys):
    """Seeds 0–2 in one database, 3–5 in another: reporting the second together with the
    first's exported cell table (--cells) gives the same counts and α_50 as one database
    holding seeds 0–5; a database named twice counts its trials once; a file that is not
    a cell table is one error line."""
    import json

    grid = ["-s", "sweeptest_walk", "--plugin", plugin, "--n", "41", "--alpha", "0.3:0.9:0.3",
            "-o", "max_iter=60", "--scheduler", "serial"]
    for name, seeds in (("a", "0:3"), ("b", "3:6"), ("all", "6")):
        assert main(["sweep", str(tmp_path / f"{name}.db"), *grid, "--seeds", seeds]) == 0
    capsys.readouterr()

    def report(*args: str) -> dict:
        assert main(["report", *args, "--json"]) == 0
        return json.loads(capsys.readouterr().out)

    a_csv = tmp_path / "a.csv"
    assert main(["report", str(tmp_path / "a.db"), "--csv", str(a_csv)]) == 0
    capsys.readouterr()
    whole = report(str(tmp_path / "all.db"))
    joined = report(str(tmp_path / "b.db"), "--cells", str(a_csv))
    counts = [[(c["alpha"], c["trials"], c["solved"]) for c in r["cells"]] for r in (whole, joined)]
    assert counts[0] == counts[1] and sum(t for _, t, _ in counts[0]) == 18
    assert [c["solved"] for c in whole["cells"]] != [6, 6, 6]  # the load matters: a real test of the joining
    assert [r["alpha50_text"] for r in whole["alpha50"]] == [r["alpha50_text"] for r in joined["alpha50"]]
    assert all(c["from_table"] for c in joined["cells"])
    twice = report(str(tmp_path / "a.db"), str(tmp_path / "a.db"))
    assert [c["trials"] for c in twice["cells"]] == [3, 3, 3]
    only_csv = report("--cells", str(a_csv))
    assert [c["solved"] for c in only_csv["cells"]] == [c["solved"] for c in twice["cells"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("solver,n\nx,3\n")
    assert main(["report", "--cells", str(bad)]) == 2
    assert "not a cell table" in capsys.readouterr().err
    assert main(["report"]) == 2
