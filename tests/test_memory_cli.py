"""``stochsyn memory …`` commands."""

import csv
import json

from stochsyn.cli import main


def test_cli_capacity_writes_csv_and_png(tmp_path, capsys):
    rc = main(["memory", "capacity", "--a", "0.05", "--deltas", "0", "--theta-points", "9", "--steps", "40",
               "--out", str(tmp_path), "--json"])
    assert rc == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["alpha_c_self_control"] > 0
    assert (tmp_path / "capacity.png").stat().st_size > 0
    assert len(list(csv.DictReader(open(tmp_path / "capacity.csv")))) == len(rows)


def test_cli_retrieval_and_sequences(tmp_path):
    assert main(["memory", "retrieval", "--n", "400", "--seeds", "2", "--steps", "3", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "retrieval.png").exists() and (tmp_path / "retrieval.csv").exists()
    assert main(["memory", "sequences", "--n", "40", "--counts", "2", "--length", "5", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "sequences.png").exists()


def test_cli_bad_input_exits_2(capsys):
    assert main(["memory", "retrieval", "--a", "0.9", "--theory-only"]) == 2
    assert "activity a" in capsys.readouterr().err
    assert main(["memory", "sequences", "--counts", "x"]) == 2
    assert main(["memory", "retrieval", "--m0", "2", "--theory-only"]) == 2
    assert "--m0 must lie in [0.0, 1.0], got --m0=2.0" in capsys.readouterr().err
    assert main(["memory", "retrieval", "--seeds", "0"]) == 2  # a count of realisations must be >= 1


def test_cli_sc_variance_option(capsys):
    args = ["memory", "retrieval", "--theory-only", "--steps", "2", "--json"]
    assert main(args + ["--sc-variance", "alpha-q"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(r["sc_variance"] == "alpha-q" for r in rows)
    assert main(args) == 0
    default_rows = json.loads(capsys.readouterr().out)
    assert default_rows[0]["sc_variance"] == "field" and default_rows[-1]["m_theory"] != rows[-1]["m_theory"]
    assert main(args + ["--sc-variance", "total"]) == 2
    assert "sc_variance" in capsys.readouterr().err


def test_cli_jump_process_commands(tmp_path, capsys):
    assert main(["memory", "jump-sequences", "--n", "20", "--length", "4", "--counts", "1", "--flips", "2",
                 "--seeds", "1", "--epochs", "300", "--out", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["rule"] for r in rows} == {"mpn", "asymmetric-hebb"}
    assert (tmp_path / "jump_sequences.png").stat().st_size > 0
    assert main(["memory", "jump-couplings", "--n", "4", "--jumps", "500", "--epochs", "200", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["jumps"] == 500 and 0 < rows[0]["relative_error"] < 2
    assert main(["memory", "jump-couplings", "--jumps", "0"]) == 2
    assert main(["memory", "jump-sequences", "--flips", "99", "--n", "10"]) == 2
