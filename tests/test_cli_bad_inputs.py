"""Bad inputs through the real command line: every case ends cleanly.

Each case runs ``python -m stochsyn …`` in a subprocess and must give a non-zero
exit code, no traceback, one to three lines on stderr, and leave no file behind
where the command would have written one. The table covers the classes found by
the hardening review (docs/cli.md): outputs that cannot be written, sizes that do
not fit in memory, the one range and seed syntax, values outside their domain,
unknown names and options, missing or foreign files.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

CASES: list[tuple[str, list[str]]] = [
    # outputs that cannot be written are refused before any work
    ("demo --out onto a file", ["demo", "--out", "{file}"]),
    ("deep train --out onto a file", ["deep", "train", "--dataset", "synthetic", "--epochs", "1", "--out", "{file}"]),
    ("figure --out onto a file", ["figure", "robustness", "--n", "13", "--out", "{file}"]),
    ("memory retrieval --out onto a file", ["memory", "retrieval", "--theory-only", "--out", "{file}"]),
    ("memory capacity --out onto a file", ["memory", "capacity", "--out", "{file}"]),
    ("solve --out onto a folder", ["solve", "--n", "31", "--alpha", "0.3", "--out", "{dir}"]),
    ("instance --out onto a folder", ["instance", "--out", "{dir}"]),
    ("theory --plot onto a folder", ["theory", "capacity", "--plot", "{dir}"]),
    ("out under a file", ["solve", "--n", "31", "--alpha", "0.3", "--out", "{file}/w.npz"]),
    # sizes that do not fit are refused at once, not with a MemoryError
    ("solve alpha 1e9", ["solve", "--alpha", "1e9"]),
    ("solve N = 10^6, alpha = 0.9", ["solve", "--n", "1000001", "--alpha", "0.9"]),
    ("memory retrieval N = 10^9", ["memory", "retrieval", "--n", "1000000000"]),
    ("theory grid of 10^10 points", ["theory", "capacity", "--kappa", "0:1:0.0000000001"]),
    # one range syntax: the third field is a step
    ("sweep range with a count", ["sweep", "{tmp}/r.db", "-s", "sbpi", "--n", "31", "--alpha", "0.5:0.75:6"]),
    ("theory range with a count", ["theory", "capacity", "--kappa", "0:1:1000000000"]),
    ("demo range with a count", ["demo", "--alpha", "0.5:0.75:6", "--out", "{tmp}/demo"]),
    ("range stop < start", ["theory", "entropy", "--alpha", "0.8:0.1:0.1"]),
    ("range step 0", ["theory", "entropy", "--alpha", "0.1:0.8:0"]),
    ("range garbage", ["theory", "entropy", "--alpha", "a:b:c"]),
    # seeds
    ("zero seeds", ["figure", "robustness", "--seeds", "0", "--out", "{tmp}/fig"]),
    ("empty seed range", ["sweep", "{tmp}/r.db", "-s", "sbpi", "--n", "31", "--alpha", "0.3", "--seeds", "5:5"]),
    ("negative seed", ["solve", "--seed", "-1"]),
    ("seed list with a duplicate", ["demo", "--seeds", "1,1", "--out", "{tmp}/demo"]),
    ("memory zero realisations", ["memory", "retrieval", "--seeds", "0"]),
    # values outside their domain
    ("alpha <= 0", ["solve", "--alpha", "-1"]),
    ("alpha nan", ["solve", "--alpha", "nan"]),
    ("n = 0", ["solve", "--n", "0"]),
    ("n not an integer", ["solve", "--n", "abc"]),
    ("max epochs 0", ["solve", "--max-epochs", "0"]),
    ("solver option out of range", ["solve", "-o", "lr=-1"]),
    ("memory m0 = 2", ["memory", "retrieval", "--m0", "2", "--theory-only"]),
    ("memory activity 0.9", ["memory", "retrieval", "--a", "0.9", "--theory-only"]),
    ("franz-parisi above capacity", ["theory", "franz-parisi", "--alpha", "2"]),
    ("geometry exact N > 25", ["geometry", "exact", "--n", "31", "--alpha", "0.5", "-s", "typical"]),
    ("geometry sample count 0", ["geometry", "sample", "--n", "13", "--alpha", "0.3", "--count", "0",
                                 "--out", "{tmp}/s.npz"]),
    ("deep epochs 0", ["deep", "train", "--dataset", "synthetic", "--epochs", "0", "--out", "{tmp}/run"]),
    ("deep architecture does not fit the data", ["deep", "train", "--arch", "mlp:100-10-10", "--dataset",
                                                 "synthetic", "--epochs", "1", "--out", "{tmp}/run"]),
    # unknown names and options
    ("unknown solver", ["solve", "-s", "nosuch"]),
    ("unknown solver option", ["solve", "-o", "learning_rate=0.1"]),
    ("renamed solver option", ["solve", "-o", "temperature=1e-3"]),
    ("option without =", ["solve", "-o", "lr"]),
    ("option for a solver not run", ["solve", "-o", "sbpi.max_epochs=3"]),
    ("sweep unknown option of stochastic", ["sweep", "{tmp}/r.db", "-s", "stochastic", "--n", "31", "--alpha", "0.3",
                                            "-o", "stochastic.lrr=0.3"]),
    ("sweep option set by the sweep", ["sweep", "{tmp}/r.db", "-s", "stochastic", "--n", "31", "--alpha", "0.3",
                                       "-o", "stochastic.seed=3"]),
    ("sweep unknown scheduler", ["sweep", "{tmp}/r.db", "-s", "sbpi", "--n", "31", "--alpha", "0.3",
                                 "--scheduler", "bogus"]),
    ("unknown problem", ["solve", "--problem", "xor"]),
    ("figure unknown solver", ["figure", "robustness", "-s", "nosuch", "--out", "{tmp}/fig"]),
    ("figure typical at large N", ["figure", "robustness", "--n", "101", "-s", "typical", "--out", "{tmp}/fig"]),
    ("memory unknown model", ["memory", "retrieval", "--model", "bogus", "--theory-only"]),
    ("memory bad threshold", ["memory", "retrieval", "--threshold", "abc", "--theory-only"]),
    ("memory bad counts", ["memory", "sequences", "--counts", "x"]),
    ("theory bad y", ["theory", "local-entropy", "--y", "abc"]),
    ("deep unknown model", ["deep", "train", "--model", "bogus", "--out", "{tmp}/run"]),
    ("deep unknown dataset", ["deep", "train", "--dataset", "bogus", "--out", "{tmp}/run"]),
    ("unknown command", ["frobnicate"]),
    ("unknown flag", ["solve", "--nn", "3"]),
    # missing or foreign files
    ("missing instance", ["solve", "--instance", "{tmp}/missing.npz"]),
    ("garbage instance", ["solve", "--instance", "{garbage}"]),
    ("instance is a folder", ["solve", "--instance", "{dir}"]),
    ("missing weights", ["geometry", "flip", "--n", "21", "--alpha", "0.3", "--weights", "{tmp}/missing.npz"]),
    ("teacher weights without a teacher", ["geometry", "flip", "--n", "21", "--alpha", "0.3", "-s", "teacher"]),
    ("report of a missing database", ["report", "{tmp}/missing.db"]),
    ("report of a garbage database", ["report", "{garbage}"]),
    ("sweep into another program's database", ["sweep", "{foreign}", "-s", "sbpi", "--n", "31", "--alpha", "0.3",
                                               "--seeds", "1"]),
    ("deep eval of a missing run", ["deep", "eval", "{tmp}/norun"]),
    ("deep export of a missing run", ["deep", "export", "{tmp}/norun", "{tmp}/out.npz"]),
    ("infer a missing model", ["infer", "{tmp}/missing.npz", "--dataset", "synthetic"]),
    ("infer a garbage model", ["infer", "{garbage}", "--dataset", "synthetic"]),
]

# outputs that a failing case must not leave behind
NOT_CREATED = ["demo", "fig", "run", "s.npz", "out.npz", "r.db"]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("bad")
    (tmp / "afile").write_text("not a folder")
    (tmp / "adir").mkdir()
    (tmp / "garbage.bin").write_bytes(b"\x00garbage, not a zip or sqlite file" * 10)
    con = sqlite3.connect(tmp / "foreign.db")
    con.execute("CREATE TABLE users (name TEXT)")
    con.commit()
    con.close()
    return {"tmp": str(tmp), "file": str(tmp / "afile"), "dir": str(tmp / "adir"),
            "garbage": str(tmp / "garbage.bin"), "foreign": str(tmp / "foreign.db")}


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    env.pop("STOCHSYN_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "stochsyn", *argv], capture_output=True, text=True,
                          timeout=180, env=env)


@pytest.fixture(scope="module")
def results(workdir):
    argvs = [[a.format(**workdir) for a in argv] for _, argv in CASES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([name for name, _ in CASES], pool.map(_run, argvs)))


@pytest.mark.parametrize("name", [name for name, _ in CASES])
def test_bad_input_ends_cleanly(name, results, workdir):
    proc = results[name]
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode != 0, f"{name}: exit code 0\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr + proc.stdout, f"{name}: traceback\n{proc.stderr}"
    assert 1 <= len(lines) <= 3, f"{name}: expected 1-3 lines on stderr, got {len(lines)}:\n{proc.stderr}"
    assert lines[-1].startswith("stochsyn: error:") or "Usage" in proc.stderr, f"{name}: {proc.stderr}"
    assert "internal error" not in proc.stderr, f"{name}: a bug path\n{proc.stderr}"


def test_no_partial_outputs(results, workdir):
    tmp = Path(workdir["tmp"])
    left = [p for p in NOT_CREATED if (tmp / p).exists()]
    assert not left, f"failing commands left {left} behind"
    assert Path(workdir["file"]).read_text() == "not a folder"
    con = sqlite3.connect(workdir["foreign"])
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        mode = con.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        con.close()
    assert tables == {"users"} and mode == "delete"  # the foreign database is untouched


def test_bare_command_help_and_version_exit_zero():
    for argv in ([], ["theory"], ["-h"], ["solve", "-h"], ["--version"]):
        proc = _run(argv)
        assert proc.returncode == 0, (argv, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert _run(["--version"]).stdout.startswith("stochsyn ")


def test_tables_are_not_cut_when_piped(tmp_path):
    from stochsyn.experiments import ResultStore, build_grid, run_sweep

    db = tmp_path / "r.db"
    grid = build_grid(solvers=["sbpi"], n="31,41", alpha="0.3,0.4,0.5", seeds=2)
    with ResultStore(db) as store:
        run_sweep(grid, store, scheduler="serial")
    proc = _run(["report", str(db)])
    assert proc.returncode == 0, proc.stderr
    header = next(ln for ln in proc.stdout.splitlines() if "median epochs" in ln)
    for col in ("solver", "problem", "solved/trials", "P(solved)", "95% interval", "median s (solved)"):
        assert col in header  # every column on the one header line: nothing wrapped or cut at 80


def test_dry_run_of_many_seeds_returns(tmp_path):
    proc = _run(["sweep", str(tmp_path / "r.db"), "-s", "sbpi", "--n", "31", "--alpha", "0.3",
                 "--seeds", "100000", "--dry-run"])
    assert proc.returncode == 0 and "(100000 values)" in proc.stdout and "trials_left: 100000" in proc.stdout
    assert not (tmp_path / "r.db").exists()


def test_packed_network_refuses_pixels_it_would_misread():
    from stochsyn.bitpack.export import network_from_spec
    from stochsyn.deep.models import build_model

    model = build_model("bnn", "mlp:4-3-2").eval()
    model.set_preprocess(0.5, 0.25)
    net = network_from_spec(model.export_spec())
    pixels = np.array([[0, 128, 255, 64]])
    ref = net.predict(pixels.astype(np.uint8))
    assert np.array_equal(net.predict(pixels.astype(np.int64)), ref)  # any integer dtype means 0-255
    assert np.array_equal(net.predict(pixels / 255.0), ref)
    with pytest.raises(ValueError, match=r"float pixels must lie in \[0, 1\]"):
        net.predict(pixels.astype(np.float64))  # 0-255 as floats: refused, not misread
    with pytest.raises(ValueError, match="NaN"):
        net.predict(np.array([[0.1, np.nan, 0.2, 0.3]]))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        net.predict(np.array([[0, 300, 1, 2]]))
