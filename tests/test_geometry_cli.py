"""Tests of the geometry CLI (`stochsyn geometry …`, `stochsyn figure …`) and figure data."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from stochsyn.cli import main
from stochsyn.geometry import local_entropy_exact
from stochsyn.geometry.figures import collect_local_entropy, records_to_csv
from stochsyn.problems import random_patterns


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_geometry_exact_json_matches_library(capsys, tmp_path):
    inst = random_patterns(15, 0.5, seed=4)
    path = inst.save(tmp_path / "inst.npz")
    wpath = tmp_path / "w.npz"
    out = _json(capsys, ["geometry", "exact", "--instance", str(path), "--solver", "typical",
                         "--save-weights", str(wpath), "--json"])
    w = np.load(wpath)["weights"]
    assert out["counts"] == local_entropy_exact(inst, w).tolist()
    assert out["errors"] == 0 and out["counts"][0] == 1
    # the saved weights can be measured again from the file
    again = _json(capsys, ["geometry", "exact", "--instance", str(path), "--weights", str(wpath), "--json"])
    assert again["counts"] == out["counts"]


def test_geometry_bp_flip_noise_generalization_json(capsys):
    common = ["--n", "41", "--alpha", "0.3", "--seed", "2", "--problem", "teacher", "--solver", "teacher", "--json"]
    bp = _json(capsys, ["geometry", "bp", *common, "--lambdas", "2,1,0.5", "--distances", "0.05"])
    assert bp["n"] == 41 and len(bp["phi"]) == 3 and bp["factor"] == "exact"
    assert set(bp["entropy_at"]) == {"0.05"}
    flip = _json(capsys, ["geometry", "flip", *common, "--fractions", "0,1", "--draws", "3"])
    assert flip["error"] == [0.0, 1.0]
    noise = _json(capsys, ["geometry", "noise", *common, "--levels", "0", "--draws", "2"])
    assert noise["error"] == [0.0]
    gen = _json(capsys, ["geometry", "generalization", "--n", "41", "--alpha", "0.3", "--solver", "teacher",
                         "--n-test", "500", "--json"])
    assert gen["error"] == 0.0 and gen["overlap"] == 1.0


def test_geometry_errors_are_one_line(capsys):
    assert main(["geometry", "exact", "--n", "31", "--alpha", "0.5", "--solver", "typical"]) == 2
    err = capsys.readouterr().err
    assert "max_n" in err and "Traceback" not in err
    assert main(["geometry", "flip", "--n", "21", "--alpha", "0.5", "--solver", "nosuchsolver"]) == 2
    assert "nosuchsolver" in capsys.readouterr().err
    assert main(["geometry", "flip", "--n", "21", "--alpha", "0.5", "--solver", "typical",
                 "--fractions", "a,b"]) == 2
    assert "--fractions" in capsys.readouterr().err


def test_geometry_sample_writes_solutions(capsys, tmp_path):
    out = _json(capsys, ["geometry", "sample", "--n", "13", "--alpha", "0.5", "--count", "4",
                         "--out", str(tmp_path / "s.npz"), "--json"])
    ws = np.load(tmp_path / "s.npz")["weights"]
    inst = random_patterns(13, 0.5, seed=0)
    assert ws.shape == (4, 13) and all(inst.is_solution(w) for w in ws)
    assert out["total_solutions"] >= 1


@pytest.mark.parametrize("kind", ["local-entropy", "robustness", "generalization"])
def test_figures_write_png_and_csv(tmp_path, kind):
    args = ["figure", kind, "--n", "15", "--solver", "typical", "--seeds", "2", "--out", str(tmp_path),
            "--name", "fig"]
    if kind == "local-entropy":
        args += ["--alpha", "0.5", "--lambdas", "2,1,0", "--no-theory"]  # replica curves cost ~1 min
    elif kind == "robustness":
        args += ["--alpha", "0.5", "--draws", "5"]
    else:
        args += ["--alpha", "0.5,1.0", "--n-test", "300", "--no-theory"]
    assert main(args) == 0
    png = (tmp_path / "fig.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((tmp_path / "fig.csv").open()))
    assert rows and {r["source"] for r in rows} == {"typical"}


def test_local_entropy_records_are_exact_counts():
    recs = collect_local_entropy(13, 0.5, ["typical"], seeds=[3], bp=False, n_typical=2)
    from stochsyn.geometry import sample_typical_solutions

    inst = random_patterns(13, 0.5, seed=3)
    ws = sample_typical_solutions(inst, 2, 3)
    for t in range(2):
        got = [r["count"] for r in recs if r["draw"] == t and r["kind"] == "exact"]
        assert got == local_entropy_exact(inst, ws[t]).tolist()
    text = records_to_csv(recs)
    assert text.splitlines()[0].startswith("source,instance,draw")


def test_unknown_solver_is_rejected():
    with pytest.raises(ValueError, match="solver"):
        collect_local_entropy(13, 0.5, ["nope"])
    with pytest.raises(ValueError, match="typical"):
        collect_local_entropy(101, 0.5, ["typical"])


def test_theory_overlay_is_optional(monkeypatch):
    import stochsyn.geometry.figures as figs

    monkeypatch.setattr(figs, "_theory_function", lambda name: None)
    assert figs.theory_local_entropy(0.5, np.array([0.1])) == {}

    def fake(alpha, d):
        if np.ndim(d):
            raise RuntimeError("vector call fails")
        if d > 0.2:
            raise RuntimeError("no saddle point")
        return d * alpha

    monkeypatch.setattr(figs, "_theory_function", lambda name: fake if name == "franz_parisi" else None)
    out = figs.theory_local_entropy(0.5, np.array([0.1, 0.3]))
    np.testing.assert_array_equal(out["Franz-Parisi (typical)"], [0.05, np.nan])
