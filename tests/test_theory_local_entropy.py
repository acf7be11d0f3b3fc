"""Tests of stochsyn.theory.local_entropy (large-deviation local entropy at finite y)."""

from __future__ import annotations

import numpy as np
import pytest

from stochsyn.theory.gardner import gardner_entropy
from stochsyn.theory.gaussian import gauss_hermite, log_2cosh, log_H
from stochsyn.theory.local_entropy import _Model, _phi, local_entropy_dense

COARSE = dict(n_outer=12, n_inner=10, n_panel=4)  # tol 1e-8 (the default) converges here


def test_energetic_term_reduces_to_gardner_at_y0():
    """At y = 0 the W's drop out: G_E = ∫Dz ln H(−√Q z/√(1−Q)) for any t, q1, q0, S."""
    m = _Model(0.5, 0.0, 2, 24, 20)
    Q = 0.32
    z, w = gauss_hermite(151)
    ref = float(np.sum(w * log_H(-np.sqrt(Q) * z / np.sqrt(1 - Q))))
    for t, q1, q0, S in [(0.33, 0.83, 0.35, 0.9), (0.2, 0.6, 0.25, 0.7)]:
        assert m.G_E(Q, t, q1, q0, S, y=0.0) == pytest.approx(ref, abs=1e-10)


def test_entropic_term_at_the_replica_symmetric_point():
    """All conjugates equal q̂: G_S = (y+1) ∫Dz ln 2cosh(√q̂ z) (W's and reference decouple)."""
    qh = 0.7
    z, w = gauss_hermite(151)
    one = float(np.sum(w * log_2cosh(np.sqrt(qh) * z)))
    for y in (2, 5):
        m = _Model(0.5, 0.0, y, 60, 10)
        assert m.G_S(qh, qh, qh, qh, qh) == pytest.approx((y + 1) * one, abs=1e-8)


def test_dgs_dy_matches_direct_integral():
    """The mixture formula for ∂G_S/∂y agrees with a brute-force η integral."""
    m = _Model(0.5, 0.0, 3, 10, 10)
    Qh, th, Sh, qh1, qh0 = 0.5, 0.3, 1.2, 0.9, 0.4
    got = m.dGS_dy(Qh, th, Sh, qh1, qh0)
    eta = np.linspace(-40, 40, 16001)
    de = eta[1] - eta[0]
    g1 = np.sqrt(Qh) * m.z1
    g2 = (th / np.sqrt(Qh)) * m.z1 + np.sqrt(qh0 - th * th / Qh) * m.z2
    sd = np.sqrt(qh1 - qh0)
    num = np.zeros(m.w2.shape)
    den = np.zeros(m.w2.shape)
    for wt in (1.0, -1.0):
        L = log_2cosh((g2 + (Sh - th) * wt)[..., None] + sd * eta)
        f = np.exp(wt * g1[..., None] + m.y * L - 0.5 * eta**2) * de
        num += np.sum(f * L, axis=-1)
        den += np.sum(f, axis=-1)
    assert got == pytest.approx(float(np.sum(m.w2 * num / den)), abs=1e-8)


@pytest.fixture(scope="module")
def saddle(tmp_path_factory):
    """One coarse saddle point (α = 0.5, d = 0.05, y = 2), computed through the CLI (JSON + plot)."""
    import contextlib
    import io
    import json

    from stochsyn.cli import main

    png = tmp_path_factory.mktemp("le") / "le.png"
    argv = ["theory", "local-entropy", "--alpha", "0.5", "--d", "0.05", "--y", "2",
            "--n-outer", str(COARSE["n_outer"]), "--n-inner", str(COARSE["n_inner"]),
            "--n-panel", str(COARSE["n_panel"]), "--json", "--plot", str(png)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    rows = json.loads(out.getvalue())
    assert len(rows) == 1
    return {**rows[0], "png": png}


def test_cli_converges_and_writes_plot(saddle):
    assert saddle["saddle"]["converged"] and saddle["saddle"]["residual"] < 1e-8
    assert saddle["png"].stat().st_size > 0


def test_saddle_is_stationary(saddle):
    """The fixed point is a stationary point of Φ in all nine parameters (finite differences)."""
    m = _Model(0.5, 0.0, 2, COARSE["n_outer"], COARSE["n_inner"], n_panel=COARSE["n_panel"])
    S = 1 - 2 * 0.05
    od = dict(saddle["order"])
    assert _phi(m, od, S, od["Shat"]) == pytest.approx(saddle["free_entropy"], abs=1e-12)
    for k in ("Q", "t", "q1", "q0", "Qhat", "that", "qhat1", "qhat0", "Shat"):
        h = 1e-5
        up = dict(od, **{k: od[k] + h})
        dn = dict(od, **{k: od[k] - h})
        deriv = (_phi(m, up, S, up["Shat"]) - _phi(m, dn, S, dn["Shat"])) / (2 * h)
        assert abs(deriv) < 2e-5, (k, deriv)


def test_dense_references_beat_typical_ones(saddle):
    """FP(d) = S_I(y→0) < S_I(y=2) < ln binom(N, dN)/N; Σ > 0 at y = 2; Q > q_Gardner."""
    from stochsyn.theory.franz_parisi import franz_parisi

    d = 0.05
    fp = float(franz_parisi(0.5, [d], n_quad=31, check_tol=None).entropy[0])
    h2 = -d * np.log(d) - (1 - d) * np.log(1 - d)
    assert fp < saddle["local_entropy"] < h2
    assert saddle["external_entropy"] > 0
    assert saddle["order"]["Q"] > gardner_entropy(0.5).q


def test_invalid_arguments():
    with pytest.raises(ValueError, match="d="):
        local_entropy_dense(0.5, 0.7)
    with pytest.raises(ValueError, match="y="):
        local_entropy_dense(0.5, 0.1, y=1)
    with pytest.raises(TypeError, match="y="):
        local_entropy_dense(0.5, 0.1, y=2.5)
