"""CLI tests of ``stochsyn theory …`` (small grids; JSON output and error handling)."""

from __future__ import annotations

import json

import pytest

from stochsyn.cli import main


def _json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_capacity_json_and_plot(capsys, tmp_path):
    rows = _json(capsys, ["theory", "capacity", "--kappa", "0,0.5", "--json", "--plot", str(tmp_path / "c.png")])
    assert [r["kappa"] for r in rows] == [0.0, 0.5]
    assert rows[0]["alpha_c"] == pytest.approx(0.833, abs=1e-3)
    assert rows[1]["alpha_c"] < rows[0]["alpha_c"]
    assert rows[0]["alpha_at"] == pytest.approx(1.0146, abs=1e-3)
    assert all(r["alpha_at"] > r["alpha_c"] for r in rows)
    assert (tmp_path / "c.png").stat().st_size > 0


def test_entropy_json_has_the_replicon(capsys):
    rows = _json(capsys, ["theory", "entropy", "--alpha", "0.5,1.1", "--json"])
    assert 0 < rows[0]["replicon"] < 1
    assert rows[1]["replicon"] < 0  # beyond α_AT = 1.0146 at κ = 0


def test_teacher_student_json(capsys):
    out = _json(capsys, ["theory", "teacher-student", "--alpha", "0.5:1.0:0.5", "--json"])
    assert out["perfect_generalization_alpha"] == pytest.approx(1.245, abs=3e-3)
    assert out["states"][0]["gen_error"] > out["states"][1]["gen_error"]


def test_stochastic_table_and_json(capsys):
    assert main(["theory", "stochastic", "--alpha", "0.5", "--q0", "0.3,0.6"]) == 0
    assert "sign(m*)" in capsys.readouterr().out
    out = _json(capsys, ["theory", "stochastic", "--alpha", "0.5", "--q0", "0.6", "--json"])
    assert out["states"][0]["q0"] == 0.6 and 0 < out["states"][0]["train_error_sign"] < 0.5


def test_bad_grid_is_one_line_error(capsys):
    assert main(["theory", "capacity", "--kappa", "a:b"]) == 2
    err = capsys.readouterr().err
    assert "--kappa" in err and "Traceback" not in err
