"""q-state success curves beside the RS capacity: zero fractions in the store, the figure command."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from stochsyn.experiments.capacity_figure import capacity_points
from stochsyn.experiments.grid import Trial, solver_seed
from stochsyn.experiments.report import alpha50_table, cell_table
from stochsyn.experiments.store import ResultStore


def _row(solver, options, alpha, seed, solved, zero_fraction, n=101):
    t = Trial(solver, options, "random", n, alpha, seed)
    return {
        "key": t.key, "solver": solver, "options": options, "problem": "random", "n": n, "alpha": alpha,
        "p": round(alpha * n), "seed": seed, "solver_seed": solver_seed(seed), "solved": solved,
        "errors": 0 if solved else 2, "epochs": 5, "seconds": 0.1, "weights_sha256": "0" * 64,
        "zero_fraction": zero_fraction, "version": "test", "solver_code": "", "host": "h", "pid": 1,
    }


def _rows():
    rows = []
    # binary: solved up to 0.7; ternary: up to 0.9 with 30% zeros (40% at the last solved load)
    for a in (0.6, 0.7, 0.8, 0.9, 1.0):
        for s in range(4):
            rows.append(_row("stochastic", "{}", a, s, int(a <= 0.7), 0.0))
            rows.append(_row("stochastic", '{"levels":3}', a, s, int(a <= 0.9), 0.4 if a == 0.9 else 0.3))
    return rows


def test_store_keeps_zero_fractions(tmp_path):
    with ResultStore(tmp_path / "z.db") as st:
        for r in _rows():
            st.add(r)
        rows = st.rows()
    cells = cell_table(rows)
    tern = [c for c in cells if c["options"] != "{}"]
    assert {c["alpha"]: c["zero_fraction_solved"] for c in tern} == {0.6: 0.3, 0.7: 0.3, 0.8: 0.3, 0.9: 0.4, 1.0: None}


def test_capacity_points_read_the_zero_fraction_near_alpha50():
    rows = _rows()
    cells = cell_table(rows)
    pts = {p["label"]: p for p in capacity_points(cells, alpha50_table(cells, rows), 101)}
    assert pts["stochastic"]["zero_fraction"] == 0.0
    assert 0.7 <= pts["stochastic"]["alpha50"] <= 0.8
    tern = pts['stochastic {"levels":3}']
    assert 0.9 <= tern["alpha50"] <= 1.0 and tern["zero_fraction"] == pytest.approx(0.4)
    assert capacity_points(cells, alpha50_table(cells, rows), 201) == []


def test_figure_capacity_command(tmp_path):
    db = tmp_path / "q.db"
    with ResultStore(db) as st:
        for r in _rows():
            st.add(r)
    out = tmp_path / "fig"
    proc = subprocess.run(
        [sys.executable, "-m", "stochsyn", "figure", "capacity", str(db), "--n", "101", "--zero-fractions", "0,0.4",
         "--out", str(out), "--json"], capture_output=True, text=True, check=True)
    rec = json.loads(proc.stdout)
    assert (out / "capacity_N101.png").stat().st_size > 1000
    curve = {round(p["zero_fraction"], 3): p["alpha_c"] for p in rec["rs_curve"]}
    assert curve[0.0] == pytest.approx(0.8331, abs=2e-4)  # the binary limit
    assert curve[0.4] == pytest.approx(1.1729, abs=2e-3)
    caps = {p["label"]: p["rs_capacity"] for p in rec["points"]}
    assert caps["stochastic"] == pytest.approx(0.8331, abs=2e-4)
    with open(out / "capacity_N101.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert {r["label"] for r in table if r["kind"] == "alpha50"} == {"stochastic", 'stochastic {"levels":3}'}

    bad = subprocess.run([sys.executable, "-m", "stochsyn", "figure", "capacity", str(db), "--n", "777",
                          "--out", str(out)], capture_output=True, text=True)
    assert bad.returncode == 2 and "N=777 is not in" in bad.stderr
