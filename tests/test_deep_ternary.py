"""Ternary synapses in the deep models: stochastic (categorical per synapse) and TWN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stochsyn import synapses
from stochsyn.deep import StochasticTernaryConv2d, StochasticTernaryLinear, build_model, load_run, train
from stochsyn.deep.baselines import ternarize_twn
from stochsyn.deep.data import synthetic_dataset
from stochsyn.deep.models import synaptic_variance, zero_weight_fraction
from test_deep import _spec_forward  # the export contract's reference implementation


def _layer(seed=0, conv=False):
    torch.manual_seed(seed)
    layer = StochasticTernaryConv2d(2, 3, 3, padding=1, h_init=2.0) if conv else StochasticTernaryLinear(20, 4, h_init=2.0)
    with torch.no_grad():  # break the θ(−1) = −θ(+1) symmetry of the initialization
        layer.fields.add_(torch.randn(layer.fields.shape) * 0.7)
    return layer


def test_ternary_probabilities_moments_and_deploy_come_from_the_shared_module():
    layer = _layer()
    p = layer.probabilities()
    assert p.shape == (4, 20, 3) and torch.allclose(p.sum(-1), torch.ones(4, 20))
    m, r = layer.synapse_moments()
    assert torch.allclose(m, p[..., 2] - p[..., 0]) and torch.allclose(r, 1 - p[..., 1])
    lv = synapses.levels_for(3)
    want = synapses.deploy(p.detach().numpy(), lv)
    assert np.array_equal(layer.deployed_weight().numpy().astype(np.int8), want)
    assert set(np.unique(want)) <= {-1, 0, 1}
    assert torch.allclose(layer.synapse_variance(), r - m * m)


@pytest.mark.parametrize("conv", [False, True])
def test_ternary_moments_match_monte_carlo_over_weights_and_inputs(conv):
    layer = _layer(1, conv)
    g = torch.Generator().manual_seed(2)
    shape = (1, 2, 5, 5) if conv else (1, 20)
    a = torch.randn(shape, generator=g, dtype=torch.float64)
    s = torch.rand(shape, generator=g, dtype=torch.float64)
    with torch.no_grad():
        mean, var = layer.double().forward_moments(a, s)
        p = layer.probabilities()
        n = 20_000
        cum = p.cumsum(-1)
        u = torch.rand((n, *p.shape[:-1]), generator=g, dtype=torch.float64)
        w = (u[..., None] > cum[..., :2]).sum(-1).to(torch.float64) - 1.0  # level index -> {-1, 0, 1}
        x = a + s.sqrt() * torch.randn((n, *shape[1:]), generator=g, dtype=torch.float64)
        if conv:
            z = torch.stack([torch.nn.functional.conv2d(x[i : i + 1], w[i], padding=1)[0] for i in range(2000)])
        else:
            z = torch.einsum("nj,nkj->nk", x, w)
    assert torch.allclose(z.mean(0), mean[0], atol=4 * float(var.max().sqrt()) / np.sqrt(len(z)))
    assert torch.allclose(z.var(0), var[0], rtol=0.12)


def test_ternary_network_trains_zero_prior_sparsifies_and_exports(tmp_path):
    data = synthetic_dataset(n_train=400, n_test=200, seed=3)
    zero = {}
    for prior in (0.0, 0.75):
        run = tmp_path / f"prior_{prior}"
        m = train(run, model="stochastic", arch="mlp:784-48-10", dataset="synthetic", epochs=2, seed=0, data=data,
                  threads=1, model_options={"synapses": "ternary", "zero_prior": prior})  # fmt: skip
        model, cfg = load_run(run)
        assert cfg["model_options"]["synapses"] == "ternary"
        assert m["epochs"][-1]["test_accuracy_deployed"] > 0.5
        zero[prior] = zero_weight_fraction(model)
        assert model.layers[0].zero_prior == prior and float(synaptic_variance(model).detach()) > 0
    assert zero[0.75] > zero[0.0] + 0.2
    spec = model.export_spec()
    assert {int(v) for v in np.unique(spec["layers"][0]["weight"])} == {-1, 0, 1}


def test_twn_ternarization_threshold_scale_and_export():
    w = torch.tensor([[0.1, -0.5, 0.9, -0.05], [0.3, 0.0, -0.2, 0.6]])
    t, alpha = ternarize_twn(w)
    delta = 0.7 * w.abs().mean()
    assert torch.equal(t, torch.where(w.abs() > delta, torch.sign(w), torch.zeros_like(w)))
    assert float(alpha) == pytest.approx(float(w.abs()[w.abs() > delta].mean()))
    torch.manual_seed(0)
    model = build_model("twn", "mlp:784-32-16-10", activation="sign", bias=True)
    x = torch.rand(64, 784)
    model.train()
    for _ in range(3):  # populate the running statistics
        model(x)
    model.eval()
    spec = model.export_spec()
    with torch.no_grad():
        want = model(x).numpy()
    np.testing.assert_allclose(_spec_forward(spec, x.numpy(), levels={-1, 0, 1}), want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind,opts", [("twn", {}), ("stochastic", {"synapses": "ternary", "activation": "relu", "zero_prior": 0.5})])
def test_ternary_cnns_train_and_deploy(kind, opts):
    model = build_model(kind, "cnn:4c3-p2-16-10", **opts)
    x = torch.rand(4, 1, 28, 28)
    model(x).sum().backward()
    model.eval()
    model.calibrate_deploy(x)
    assert model.set_mode("deploy")(x).shape == (4, 10)
    assert 0.0 < zero_weight_fraction(model) < 1.0


def test_ternary_options_are_validated():
    with pytest.raises(ValueError, match="synapses"):
        build_model("stochastic", "mlp:784-10", synapses="quaternary")
    with pytest.raises(ValueError, match="ternary"):
        build_model("stochastic", "mlp:784-10", zero_prior=1.0)
    with pytest.raises(ValueError, match="zero_prior"):
        build_model("stochastic", "mlp:784-10", synapses="ternary", zero_prior=float("nan"))
