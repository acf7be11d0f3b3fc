"""Sweep grids, the result store and the report: validation, parsing, statistics."""

from __future__ import annotations

import math
import sqlite3

import numpy as np
import pytest

from stochsyn.cli import main
from stochsyn.experiments.grid import (
    Grid,
    Trial,
    Variant,
    build_grid,
    canonical_options,
    grid_from_toml,
    parse_alphas,
    parse_seeds,
    solver_seed,
)
from stochsyn.experiments.report import (
    alpha50_table,
    alpha_50,
    alpha_50_interval,
    binomial_interval,
    cell_table,
    isotonic_nonincreasing,
    plot_alpha50,
    plot_success,
    plot_time_to_solution,
    write_csv,
)
from stochsyn.experiments.store import TRIAL_COLUMNS, ResultStore
from stochsyn.solvers import available

SOLVER = "sbpi" if "sbpi" in available() else available()[0]


# -- parsing -----------------------------------------------------------------------------

def test_alpha_range_includes_stop_and_is_exact():
    assert parse_alphas("0.50:0.75:0.05") == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75]
    assert parse_alphas("0.3,0.5") == [0.3, 0.5]
    assert parse_alphas(0.4) == [0.4]


def test_seed_specs():
    assert parse_seeds(3) == [0, 1, 2]
    assert parse_seeds("10") == list(range(10))
    assert parse_seeds("3:6") == [3, 4, 5]
    assert parse_seeds("1,5,9") == [1, 5, 9]
    with pytest.raises(ValueError, match="seeds"):
        parse_seeds("5:5")
    with pytest.raises(ValueError, match="count of seeds must be >= 1"):
        parse_seeds(0)


def test_option_parsing_reads_json_values():
    from stochsyn.cli._grammar import parse_solver_options

    opts = parse_solver_options(["sbpi.max_epochs=2000", "lr=0.1", "x.mode=fast", "x.some-key=[1,2]"], ["sbpi", "x"])
    assert opts == {"sbpi": {"max_epochs": 2000, "lr": 0.1}, "x": {"lr": 0.1, "mode": "fast", "some_key": [1, 2]}}
    with pytest.raises(ValueError, match="KEY=VALUE or SOLVER.KEY=VALUE"):
        parse_solver_options(["max_epochs"], ["sbpi"])
    with pytest.raises(ValueError, match="does not run"):
        parse_solver_options(["fbp.y=3"], ["sbpi"])


def test_canonical_options_sorted_and_rejects_non_json():
    assert canonical_options({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    with pytest.raises(TypeError, match="JSON"):
        canonical_options({"a": object()})
    with pytest.raises(ValueError, match="finite"):
        canonical_options({"a": float("nan")})


def test_solver_seed_is_deterministic_and_distinct_from_the_instance_seed():
    seeds = [solver_seed(s) for s in range(50)]
    assert seeds == [solver_seed(s) for s in range(50)]
    assert len(set(seeds)) == 50
    assert all(a != b for a, b in zip(seeds, range(50)))


# -- grid validation ------------------------------------------------------------------------

def test_grid_expands_seed_major_with_stable_keys():
    g = build_grid(solvers=[SOLVER], n="31,51", alpha="0.2:0.4:0.1", seeds=2)
    trials = g.trials()
    assert g.size == len(trials) == 1 * 2 * 3 * 2
    assert [t.seed for t in trials[:6]] == [0] * 6
    assert len({t.key for t in trials}) == g.size
    t = trials[0]
    assert Trial.from_dict(t.to_dict()) == t
    assert t.key == f"{SOLVER}|{{}}|random|31|0.2|0"


def test_unknown_solver_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown solver method='nosuch'.*expected one of"):
        build_grid(solvers=["nosuch"], n=31, alpha=0.3, seeds=1)


@pytest.mark.parametrize("alpha", ["0", "-0.1", "0.3,0"])
def test_nonpositive_alpha_is_a_clear_error(alpha):
    with pytest.raises(ValueError, match="alpha must be finite and > 0"):
        build_grid(solvers=[SOLVER], n=31, alpha=alpha, seeds=1)


def test_alpha_too_small_for_n_is_an_error():
    with pytest.raises(ValueError, match="0 patterns"):
        build_grid(solvers=[SOLVER], n=11, alpha=0.01, seeds=1)


@pytest.mark.parametrize(
    "kwargs, axis",
    [
        (dict(solvers=[], n=31, alpha=0.3, seeds=1), "solvers"),
        (dict(solvers=[SOLVER], n="", alpha=0.3, seeds=1), "n"),
        (dict(solvers=[SOLVER], n=31, alpha="", seeds=1), "alpha"),
        (dict(solvers=[SOLVER], n=31, alpha=[], seeds=1), "alpha"),
        (dict(solvers=[SOLVER], n=31, alpha=0.3, seeds=[]), "seeds"),
    ],
)
def test_empty_grid_is_a_clear_error(kwargs, axis):
    with pytest.raises(ValueError, match=f"empty grid: {axis}"):
        build_grid(**kwargs)


def test_missing_axes_are_errors():
    with pytest.raises(ValueError, match="no n given"):
        build_grid(solvers=[SOLVER], alpha=0.3)
    with pytest.raises(ValueError, match="no alpha given"):
        build_grid(solvers=[SOLVER], n=31)


def test_bad_problem_duplicates_and_options():
    with pytest.raises(ValueError, match="problem must be one of"):
        build_grid(solvers=[SOLVER], n=31, alpha=0.3, problem="xor")
    with pytest.raises(ValueError, match="duplicate"):
        build_grid(solvers=[SOLVER], n=31, alpha="0.3,0.3")
    with pytest.raises(ValueError, match=r"unknown option\(s\) for method .*\['no_such_option'\]"):
        Grid((Variant(SOLVER, {"no_such_option": 1}),), (31,), (0.3,), (0,))
    # the stochastic solver's options are checked too (its signature lists them)
    with pytest.raises(ValueError, match=r"\['lrr'\]; expected some of .*'lr'"):
        build_grid(solvers=["stochastic"], n=31, alpha=0.3, options={"stochastic": {"lrr": 0.3}})
    with pytest.raises(ValueError, match="'seed' of solver 'stochastic' is set by the sweep"):
        build_grid(solvers=["stochastic"], n=31, alpha=0.3, options={"stochastic": {"seed": 3}})
    with pytest.raises(ValueError, match="not in the grid's solvers"):
        build_grid(solvers=[SOLVER], n=31, alpha=0.3, options={"other": {"a": 1}})
    with pytest.raises(ValueError, match="seeds must be >= 0"):
        Grid((Variant(SOLVER),), (31,), (0.3,), (-1,))


def test_all_means_every_registered_solver():
    g = build_grid(solvers="all", n=31, alpha=0.3, seeds=1)
    assert sorted(v.solver for v in g.variants) == available()


def test_toml_grid_and_flag_override(tmp_path):
    p = tmp_path / "grid.toml"
    p.write_text(
        f'problem = "teacher"\nn = [31]\nalpha = "0.2:0.3:0.1"\nseeds = "2:5"\nsolvers = ["{SOLVER}"]\n'
        f"[[variants]]\nsolver = \"{SOLVER}\"\noptions = {{}}\n"
    )
    with pytest.raises(ValueError, match="same solver/options twice"):
        build_grid(base=grid_from_toml(p))
    p.write_text(f'problem = "teacher"\nn = [31]\nalpha = "0.2:0.3:0.1"\nseeds = "2:5"\nsolvers = ["{SOLVER}"]\n')
    g = build_grid(base=grid_from_toml(p))
    assert (g.problem, g.ns, g.alphas, g.seeds) == ("teacher", (31,), (0.2, 0.3), (2, 3, 4))
    g2 = build_grid(base=grid_from_toml(p), alpha="0.5", seeds=1)
    assert (g2.alphas, g2.seeds) == ((0.5,), (0,))
    p.write_text("alpah = 0.3\n")
    with pytest.raises(ValueError, match="unknown keys"):
        grid_from_toml(p)
    p.write_text("n = [\n")
    with pytest.raises(ValueError, match="not valid TOML"):
        grid_from_toml(p)


def test_cli_malformed_grids_exit_2_with_one_line(tmp_path, capsys):
    db = str(tmp_path / "r.db")
    cases = [
        (["-s", "nosuch", "--n", "31", "--alpha", "0.3"], "unknown solver"),
        (["-s", SOLVER, "--n", "31", "--alpha", "-0.2"], "alpha must be finite and > 0"),
        (["-s", SOLVER, "--n", "31", "--alpha", "0.3", "--seeds", ""], "seeds"),
        (["--n", "31", "--alpha", "0.3"], "empty grid: solvers"),
        (["-s", SOLVER, "--n", "31", "--alpha", "0.3", "--scheduler", "mpi"], "unknown scheduler"),
    ]
    for args, msg in cases:
        assert main(["sweep", db, *args]) == 2
        err = capsys.readouterr().err.strip()
        assert msg in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r.db").exists()


def test_cli_dry_run_counts_trials(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "r.db"), "-s", SOLVER, "--n", "31", "--alpha", "0.2:0.4:0.1",
                 "--seeds", "4", "--dry-run", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"trials": 12' in out and '"trials_left": 12' in out


# -- store ----------------------------------------------------------------------------------

def _row(solver="a", n=31, alpha=0.3, seed=0, solved=1, seconds=0.5, options="{}"):
    t = Trial(solver, options, "random", n, alpha, seed)
    return {
        "key": t.key, "solver": solver, "options": options, "problem": "random", "n": n, "alpha": alpha,
        "p": round(alpha * n), "seed": seed, "solver_seed": solver_seed(seed), "solved": solved,
        "errors": 0 if solved else 3, "epochs": 10, "seconds": seconds, "weights_sha256": "0" * 64,
        "zero_fraction": 0.0, "version": "test", "solver_code": "", "host": "h", "pid": 1,
    }


def test_store_one_row_per_key_and_reopens(tmp_path):
    path = tmp_path / "sub" / "r.db"
    with ResultStore(path) as s:
        assert s.add(_row(seed=0)) is True
        assert s.add(_row(seed=0, solved=0)) is False  # duplicate key ignored, first row kept
        assert s.add(_row(seed=1)) is True
        s.add_failure({**Trial("a", "{}", "random", 31, 0.3, 2).to_dict(), "key": "k"}, "ValueError: boom")
    with ResultStore(path, create=False) as s:
        rows = s.rows()
        assert [r["seed"] for r in rows] == [0, 1] and rows[0]["solved"] == 1
        assert set(rows[0]) == set(TRIAL_COLUMNS)
        assert s.failures()[0]["error"] == "ValueError: boom"
        assert s.finished_keys() == {r["key"] for r in rows}
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_store_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        ResultStore(tmp_path / "none.db", create=False)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all" * 100)
    with pytest.raises(ValueError, match="not a stochsyn result database"):
        ResultStore(bad)
    with pytest.raises(ValueError, match="missing columns"):
        with ResultStore(tmp_path / "ok.db") as s:
            s.add({"key": "x"})


# -- statistics -----------------------------------------------------------------------------

def test_wilson_and_clopper_pearson_known_values():
    lo, hi = binomial_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1.959964**2 / (10 + 1.959964**2), rel=1e-6)
    lo, hi = binomial_interval(0, 10, method="clopper-pearson")
    assert hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    lo, hi = binomial_interval(5, 10, method="clopper-pearson")
    assert (lo, hi) == pytest.approx((0.187086, 0.812914), abs=1e-6)
    lo, hi = binomial_interval(7, 20)
    assert lo < 7 / 20 < hi
    with pytest.raises(ValueError, match="0 <= k <= n"):
        binomial_interval(11, 10)
    with pytest.raises(ValueError, match="method"):
        binomial_interval(1, 10, method="wald")


def test_isotonic_fit_matches_sklearn():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(3)
    y = rng.random(25)
    w = rng.integers(1, 10, 25).astype(float)
    ref = IsotonicRegression(increasing=False).fit(np.arange(25), y, sample_weight=w).predict(np.arange(25))
    np.testing.assert_allclose(isotonic_nonincreasing(y, w), ref, atol=1e-12)


def test_alpha50_interpolation_monotone_fix_and_censoring():
    a = [0.5, 0.6, 0.7, 0.8]
    assert alpha_50(a, [10, 8, 2, 0], [10] * 4).value == pytest.approx(0.65)
    # 4/10 then 6/10 violate monotonicity: pooled to 0.5, 0.5, a plateau at 1/2 → its middle
    assert alpha_50(a, [10, 4, 6, 0], [10] * 4).value == pytest.approx(0.65)
    est = alpha_50(a, [10, 9, 7, 6], [10] * 4)
    assert (est.status, est.value, str(est)) == ("above", 0.8, "> 0.800")
    est = alpha_50(a, [4, 1, 0, 0], [10] * 4)
    assert (est.status, str(est)) == ("below", "< 0.500")
    lo, hi = alpha_50_interval(a, [10, 8, 2, 0], [10] * 4, n_boot=400, seed=1)
    assert 0.55 <= lo < 0.65 < hi <= 0.75
    assert (lo, hi) == alpha_50_interval(a, [10, 8, 2, 0], [10] * 4, n_boot=400, seed=1)
    with pytest.raises(ValueError, match="strictly increasing"):
        alpha_50([0.6, 0.5], [1, 0], [1, 1])


def test_cell_table_alpha50_table_csv_and_plots(tmp_path):
    rows = []
    for n in (31, 51):
        for i, alpha in enumerate((0.3, 0.4, 0.5, 0.6)):
            for seed in range(4):
                rows.append(_row("a", n, alpha, seed, solved=int(seed < 4 - i), seconds=1.0 + seed))
                rows.append(_row("b", n, alpha, seed, solved=1, seconds=0.1))
    rows.append(_row("b", 31, 0.3, 9, solved=1, seconds=0.1, options='{"x":1}'))
    cells = cell_table(rows)
    c = next(c for c in cells if (c["solver"], c["n"], c["alpha"]) == ("a", 31, 0.4))
    assert (c["solved"], c["trials"], c["p_success"]) == (3, 4, 0.75)
    assert c["median_seconds_solved"] == 2.0 and c["median_seconds_all"] == 2.5
    assert (c["ci_low"], c["ci_high"]) == pytest.approx(binomial_interval(3, 4))
    assert {c["label"] for c in cells} == {"a", "b", 'b {"x":1}'}
    a50 = alpha50_table(cells, rows, n_boot=200)
    ra = next(r for r in a50 if (r["solver"], r["n"]) == ("a", 31))
    # p = 1, 0.75, 0.5, 0.25: exactly 1/2 at α = 0.5
    assert ra["alpha50_status"] == "interpolated" and ra["alpha50"] == pytest.approx(0.5)
    assert ra["median_seconds_solved"] == 2.0  # solved trials took 1,2,3,4, 1,2,3, 1,2, 1 s
    assert next(r for r in a50 if (r["label"], r["n"]) == ("b", 31))["alpha50_text"] == "> 0.600"
    out = write_csv(cells, tmp_path / "t.csv")
    lines = out.read_text().splitlines()
    assert lines[0].startswith("label,solver,options") and len(lines) == len(cells) + 1
    for path in (
        plot_success(cells, tmp_path / "p" / "s.png"),
        plot_time_to_solution(cells, tmp_path / "p" / "t.png"),
        plot_alpha50(a50, tmp_path / "p" / "a.png"),
    ):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert math.isclose(sum(c["trials"] for c in cells), len(rows))


def test_toml_options_must_be_tables(tmp_path):
    p = tmp_path / "g.toml"
    p.write_text(f'n = 31\nalpha = 0.3\nsolvers = ["{SOLVER}"]\noptions = 3\n')
    with pytest.raises(TypeError, match="options must be a table"):
        build_grid(base=grid_from_toml(p))
    p.write_text(f'n = 31\nalpha = 0.3\nsolvers = ["{SOLVER}"]\n[options]\n{SOLVER} = 5\n')
    with pytest.raises(TypeError, match=f"options for solver '{SOLVER}'"):
        build_grid(base=grid_from_toml(p))


def test_store_adds_columns_missing_from_older_databases(tmp_path):
    path = tmp_path / "old.db"
    with ResultStore(path):
        pass
    con = sqlite3.connect(path)
    con.execute("ALTER TABLE trials DROP COLUMN solver_code")  # a database from before the column
    con.commit()
    con.close()
    with ResultStore(path) as s:
        row = _row()
        del row["solver_code"]
        row["solver_code"] = "abc"
        s.add(row)
        assert s.rows()[0]["solver_code"] == "abc"


def test_finite_size_fit_recovers_a_known_law_and_its_interval_covers_it():
    from stochsyn.experiments.report import finite_size_fit, finite_size_table

    ns = np.array([251, 501, 1001, 2001, 4001, 10001])
    truth = 0.80 - 0.9 * ns ** (-0.6)
    rng = np.random.default_rng(4)
    half = np.full(ns.shape, 0.004)
    noisy = truth + rng.normal(0, half / 1.96)
    fit = finite_size_fit(ns, noisy, noisy - half, noisy + half, n_boot=300)
    assert fit["model"] == "power law" and fit["nu_fitted"] and fit["dof"] == 3 and fit["points"] == 6
    lo, hi = fit["alpha_inf_ci"]
    assert lo < 0.80 < hi and hi - lo < 0.05
    assert abs(fit["nu"] - 0.6) < 0.35
    law3 = 0.8 - 0.5 * ns[:3] ** -0.5
    exact = finite_size_fit(ns[:3], law3, law3 - 0.001, law3 + 0.001)
    assert exact["model"] == "power law" and not exact["nu_fitted"] and exact["nu"] == 0.5 and exact["nu_ci"] is None
    assert exact["alpha_inf"] == pytest.approx(0.8, abs=1e-9) and exact["a"] == pytest.approx(0.5, abs=1e-7)
    # a flat alpha_50(N) is not extrapolated by an arbitrary curve
    flat = 0.715 + rng.normal(0, 0.004, size=ns.size)
    const = finite_size_fit(ns, flat, flat - 0.008, flat + 0.008, n_boot=200)
    assert const["model"] == "constant" and const["nu"] is None and const["a"] == 0.0
    assert const["alpha_inf_ci"][0] < 0.715 < const["alpha_inf_ci"][1]
    with pytest.raises(ValueError, match="at least 3 distinct sizes"):
        finite_size_fit([101, 101, 201], [0.7, 0.7, 0.71], [0.6] * 3, [0.8] * 3)
    # the table uses only interpolated alpha_50 values and groups by solver
    rows = [{"label": "x", "problem": "random", "n": int(n), "alpha50": float(v), "alpha50_status": "interpolated",
             "alpha50_ci_low": float(v) - 0.004, "alpha50_ci_high": float(v) + 0.004} for n, v in zip(ns, noisy)]
    rows.append({**rows[0], "n": 20001, "alpha50_status": "above"})
    table = finite_size_table(rows, n_boot=50)
    assert len(table) == 1 and table[0]["sizes"] == ns.tolist()
