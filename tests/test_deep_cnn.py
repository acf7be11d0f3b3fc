"""Convolutional networks for every model: the architecture grammar, pooling moment rules, training."""

from __future__ import annotations

import pytest
import torch

from stochsyn.deep import DEFAULT_CNN, build_model, load_run, parse_architecture, train
from stochsyn.deep.architecture import Conv, Dense, Pool, check_arch_fits
from stochsyn.deep.data import synthetic_dataset
from stochsyn.deep.models import MODEL_KINDS
from stochsyn.deep.activations import sign_moments
from stochsyn.deep.pooling import (
    avg_pool_moments,
    clark_max,
    comonotone_max_pool_gauss_moments,
    comonotone_max_pool_sign_moments,
    comonotone_sign_max_pool_moments,
    max_pool_gauss_moments,
    max_pool_sign_moments,
    sign_max_pool_moments,
)

# ---------------------------------------------------------------- grammar


def test_grammar_parses_tokens_shapes_and_round_trips():
    a = parse_architecture("cnn:32c3-32c3-p2-64c5-a2-256-10")
    assert a.family == "cnn" and a.input_shape == (1, 28, 28)
    assert a.layers == (Conv(32, 3), Conv(32, 3), Pool("max", 2), Conv(64, 5), Pool("avg", 2), Dense(256), Dense(10))
    assert str(a) == "cnn:32c3-32c3-p2-64c5-a2-256-10"
    blocks = a.blocks()
    assert [b[2] for b in blocks] == [(1, 28, 28), (32, 28, 28), (32, 14, 14), (64 * 7 * 7,), (256,)]
    assert [b[1] for b in blocks][1] == (Pool("max", 2),)
    assert a.n_inputs == 784 and a.n_outputs == 10
    b = parse_architecture("cnn:3x32x32:8c3-p2-p2-10")
    assert b.input_shape == (3, 32, 32) and b.blocks()[-1][2] == (8 * 8 * 8,)
    assert str(b) == "cnn:3x32x32:8c3-p2-p2-10"
    assert str(parse_architecture("cnn")) == DEFAULT_CNN
    # the original four-integer form
    assert str(parse_architecture("cnn:4-8-16-10")) == "cnn:4c3-a2-8c3-a2-16-10"
    assert str(parse_architecture("mlp:784-100-10")) == "mlp:784-100-10"
    check_arch_fits("cnn", 784, 10)
    with pytest.raises(ValueError, match="classes"):
        check_arch_fits("cnn", 784, 5)


@pytest.mark.parametrize(
    "arch,match",
    [
        ("cnn:4c2-10", "odd"),
        ("cnn:p2-4c3-10", "before any convolution"),
        ("cnn:4c3-10-4c3-10", "after a dense layer"),
        ("cnn:4c3-p2", "ends with dense"),
        ("cnn:16-10", "at least one convolution"),
        ("cnn:4c3-q2-10", "is not NcK"),
        ("cnn:4c3-p64-10", "leaves nothing"),
        ("cnn:1x28:4c3-10", "CxHxW"),
        ("cnn:0c3-10", "positive"),
        ("rnn:4-10", "unknown family"),
    ],
)
def test_grammar_errors_name_the_problem(arch, match):
    with pytest.raises(ValueError, match=match):
        parse_architecture(arch)


# ---------------------------------------------------------------- pooling moments vs Monte Carlo


def _gauss(shape, seed):
    g = torch.Generator().manual_seed(seed)
    mean = torch.randn(shape, generator=g, dtype=torch.float64)
    var = 0.2 + torch.rand(shape, generator=g, dtype=torch.float64)
    return mean, var


def _samples(mean, var, n, seed):
    g = torch.Generator().manual_seed(seed)
    return mean + var.sqrt() * torch.randn((n, *mean.shape), generator=g, dtype=torch.float64)


def test_avg_and_sign_max_pool_moments_match_monte_carlo():
    mean, var = _gauss((1, 3, 4, 4), 0)
    z = _samples(mean, var, 200_000, 1).flatten(0, 1)  # (n*1, 3, 4, 4)
    pm, pv = avg_pool_moments(mean, var, 2)
    avg = torch.nn.functional.avg_pool2d(z, 2)
    assert torch.allclose(pm[0], avg.mean(0), atol=5e-3) and torch.allclose(pv[0], avg.var(0), rtol=2e-2)
    mu = torch.tanh(mean)  # ±1 units with these means
    g = torch.Generator().manual_seed(2)
    s = torch.where(torch.rand((200_000, *mu.shape[1:]), generator=g, dtype=torch.float64) < (1 + mu[0]) / 2, 1.0, -1.0).double()
    mx = torch.nn.functional.max_pool2d(s, 2)
    sm, sv = max_pool_sign_moments(mu, 2)
    assert torch.allclose(sm[0], mx.mean(0), atol=6e-3) and torch.allclose(sv[0], mx.var(0), atol=6e-3)


def test_sign_then_max_pool_in_one_pass_equals_the_two_steps_and_monte_carlo():
    mean, var = _gauss((2, 3, 4, 4), 11)
    mean = 3.0 * mean  # units from nearly certain to undecided
    fm, fv = sign_max_pool_moments(mean, var, 2)
    tm, tv = max_pool_sign_moments(sign_moments(mean, var)[0], 2)
    assert torch.allclose(fm, tm, atol=1e-10) and torch.allclose(fv, tv, atol=1e-10)
    z = _samples(mean[:1], var[:1], 200_000, 12).flatten(0, 1)
    mx = torch.nn.functional.max_pool2d(torch.where(z >= 0, 1.0, -1.0).double(), 2)
    assert torch.allclose(fm[0], mx.mean(0), atol=6e-3) and torch.allclose(fv[0], mx.var(0), atol=6e-3)
    mean = mean.clone().requires_grad_()
    (sign_max_pool_moments(mean, var, 2)[0].sum()).backward()
    g1 = mean.grad.clone()
    mean.grad = None
    (max_pool_sign_moments(sign_moments(mean, var)[0], 2)[0].sum()).backward()
    assert torch.allclose(g1, mean.grad, rtol=1e-6, atol=1e-9)


def test_comonotone_max_pool_rules_are_exact_for_units_sharing_one_noise():
    """z_i = mu_i + √v_i ε with one ε per window draw: the sign rule is exact for any
    variances, the Gaussian rule for equal ones; with independent noise the sign rule
    is the lower bound of P(max = +1) and differs from the truth."""
    mean, var = _gauss((1, 2, 4, 4), 21)
    mean = 2.0 * mean
    g = torch.Generator().manual_seed(22)
    eps = torch.randn((200_000, 1, 1, 1), generator=g, dtype=torch.float64)
    z = mean + var.sqrt() * eps  # one common noise: comonotone units
    mx = torch.nn.functional.max_pool2d(torch.where(z >= 0, 1.0, -1.0).double(), 2)
    cm, cv = comonotone_sign_max_pool_moments(mean, var, 2)
    assert torch.allclose(cm[0], mx.mean(0), atol=6e-3) and torch.allclose(cv[0], mx.var(0), atol=6e-3)
    im, _ = sign_max_pool_moments(mean, var, 2)
    assert torch.all(im >= cm - 1e-12) and (im - cm).abs().max() > 0.1  # the two ends of the dependence
    cm2, cv2 = comonotone_max_pool_sign_moments(sign_moments(mean, var)[0], 2)
    assert torch.allclose(cm, cm2, atol=1e-12) and torch.allclose(cv, cv2, atol=1e-12)
    v_eq = torch.full_like(var, 0.7)
    zg = torch.nn.functional.max_pool2d(mean + v_eq.sqrt() * eps, 2)
    gm, gv = comonotone_max_pool_gauss_moments(mean, v_eq, 2)
    assert torch.allclose(gm[0], zg.mean(0), atol=6e-3) and torch.allclose(gv[0], zg.var(0), rtol=2e-2)
    gm2, gv2 = comonotone_max_pool_gauss_moments(mean, var, 2)  # variance of the winning unit
    win = torch.nn.functional.max_pool2d(mean, 2, return_indices=True)[1]
    assert torch.equal(gv2, var.flatten(2).gather(2, win.flatten(2)).view_as(gv2)) and torch.equal(gm2, gm)


def test_max_pool_rule_option_changes_the_mean_field_pass_only():
    torch.manual_seed(0)
    x = torch.rand(5, 1, 28, 28)
    for act in ("sign", "relu"):
        ind = build_model("stochastic", "cnn:4c3-p2-6c3-p2-16-10", activation=act, max_pool="independent")
        com = build_model("stochastic", "cnn:4c3-p2-6c3-p2-16-10", activation=act)
        com.load_state_dict(ind.state_dict())
        assert com.hparams()["max_pool"] == "comonotone" and ind.hparams()["max_pool"] == "independent"
        ind.train()
        com.train()
        assert not torch.allclose(ind(x), com(x))
        for net in (ind, com):
            net.eval()
            net.set_mode("deploy")
        assert torch.equal(ind(x), com(x))
    with pytest.raises(ValueError, match="max_pool="):
        build_model("stochastic", "mlp:784-16-10", max_pool="correlated")


def test_sampled_sign_units_are_unbiased_hard_and_pass_the_gradient_through():
    from stochsyn.deep.models import _sample_sign_units

    torch.manual_seed(3)
    mean = (torch.rand(4, 3, 5, 5, dtype=torch.float64) * 2 - 1).requires_grad_()
    var = 1 - mean.detach() ** 2
    draws = torch.stack([_sample_sign_units(mean, var, 1.0)[0] for _ in range(4000)])
    assert set(draws.detach().unique().tolist()) == {-1.0, 1.0}
    assert torch.allclose(draws.mean(0), mean.detach(), atol=0.07)  # 4,000 draws: s.e. <= 0.016
    s, v = _sample_sign_units(mean, var, 1.0)
    assert v is None  # every unit drawn: the next layer sees deterministic inputs
    s.sum().backward()
    assert torch.all(mean.grad == 1)  # straight through
    s, v = _sample_sign_units(mean.detach(), var, 0.5)
    hard = (s.abs() == 1) & (v == 0)
    assert 0.3 < hard.double().mean() < 0.75 and torch.equal(s[~hard], mean.detach()[~hard])
    # at rate 0.5 the drawn units are still unbiased: E[s] = mean over draws, half of them kept soft
    draws = torch.stack([_sample_sign_units(mean.detach(), var, 0.5)[0] for _ in range(4000)])
    assert torch.allclose(draws.mean(0), mean.detach(), atol=0.07)
    assert abs((draws.abs() == 1).double().mean().item() - 0.5) < 0.05


def test_sample_units_option_acts_in_training_only():
    torch.manual_seed(0)
    x = torch.rand(6, 1, 28, 28)
    plain = build_model("stochastic", "cnn:4c3-p2-16-10", sample_units=0.0)
    samp = build_model("stochastic", "cnn:4c3-p2-16-10", sample_units=1.0, max_pool="comonotone")
    same_pool = build_model("stochastic", "cnn:4c3-p2-16-10", sample_units=0.0, max_pool="comonotone")
    samp.load_state_dict(plain.state_dict())
    same_pool.load_state_dict(plain.state_dict())
    assert samp.hparams()["sample_units"] == 1.0 and plain.hparams()["sample_units"] == 0.0
    samp.eval()
    same_pool.eval()
    assert torch.equal(samp(x), same_pool(x))  # evaluation is the mean-field pass
    samp.train()
    same_pool.train()
    assert not torch.allclose(samp(x), same_pool(x))
    for bad, match in (({"sample_units": 1.5}, "sample_units="), ({"sample_units": 0.5, "activation": "relu"},
                                                                   "needs activation='sign'")):
        with pytest.raises(ValueError, match=match):
            build_model("stochastic", "mlp:784-16-10", **bad)


def test_clark_rule_is_exact_for_pairs_and_close_for_windows():
    m1, v1 = _gauss((50,), 3)
    m2, v2 = _gauss((50,), 4)
    x, y = _samples(m1, v1, 400_000, 5), _samples(m2, v2, 400_000, 6)
    e, v = clark_max(m1, v1, m2, v2)
    mx = torch.maximum(x, y)
    assert torch.allclose(e, mx.mean(0), atol=6e-3) and torch.allclose(v, mx.var(0), atol=1e-2)
    mean, var = _gauss((1, 2, 4, 4), 7)
    z = _samples(mean, var, 200_000, 8).flatten(0, 1)
    pm, pv = max_pool_gauss_moments(mean, var, 2)
    mx = torch.nn.functional.max_pool2d(z, 2)
    # a window of 4 is a tree of pairs with Gaussian intermediates: an approximation
    assert (pm[0] - mx.mean(0)).abs().max() < 0.05 and (pv[0] - mx.var(0)).abs().max() < 0.08


# ---------------------------------------------------------------- every model, every mode


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("arch", ["cnn:4c3-p2-6c3-a2-16-10", "cnn:4-4-16-10"])
def test_every_model_builds_a_cnn_that_trains_and_deploys(kind, arch):
    opts = {"activation": "relu"} if kind == "stochastic" and "p2" in arch else {}
    model = build_model(kind, arch, **opts)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    out = model(x)
    assert out.shape == (6, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    model.after_step()
    model.eval()
    model.calibrate_deploy(x)
    assert model.set_mode("deploy")(x).shape == (6, 10)
    # rebuilt from its hparams, it has the same parameters
    hp = model.hparams()
    clone = build_model(hp.pop("kind"), hp.pop("arch"), class_names=hp.pop("class_names"), **hp)
    assert clone.state_dict().keys() == model.state_dict().keys()


def test_stochastic_cnn_deploy_is_the_sign_network_it_describes():
    model = build_model("stochastic", "cnn:3c3-p2-8-10").eval()
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    model.calibrate_deploy(x)
    got = model.set_mode("deploy")(x)
    a = (x - model.input_mean) / model.input_std
    conv, dense1, dense2 = model.layers
    z = torch.nn.functional.conv2d(a, torch.where(conv.h >= 0, 1.0, -1.0), padding=1)
    z = model.norms[0](z)
    a = torch.nn.functional.max_pool2d(torch.where(z >= 0, 1.0, -1.0), 2).flatten(1)
    a = torch.where(model.norms[1](a @ torch.where(dense1.h >= 0, 1.0, -1.0).T) >= 0, 1.0, -1.0)
    want = model.norms[2](a @ torch.where(dense2.h >= 0, 1.0, -1.0).T)
    assert torch.allclose(got, want, atol=1e-5)
    spec = model.export_spec()
    assert spec["input_shape"] == [1, 28, 28]
    assert [(l["kind"], l["activation"]) for l in spec["layers"]] == [("conv", "sign"), ("linear", "sign"),
                                                                       ("linear", "none")]  # fmt: skip
    assert spec["layers"][0]["weight"].shape == (3, 1, 3, 3) and spec["layers"][0]["padding"] == 1
    assert spec["layers"][0]["pools"] == [["max", 2]]


@pytest.mark.parametrize("act", ["sign", "relu"])
def test_max_pools_taken_before_a_monotone_activation_change_no_value(act):
    from stochsyn.deep.activations import sign_pm1
    from stochsyn.deep.models import _activate_pool, _pool_all

    f = sign_pm1 if act == "sign" else torch.relu
    # integer-valued maps: ties and exact zeros (sign(0) = +1) in most windows
    z = torch.randint(-2, 3, (4, 3, 8, 8), generator=torch.Generator().manual_seed(0)).float()
    for pools in [(Pool("max", 2),), (Pool("max", 2), Pool("max", 2)), (Pool("max", 2), Pool("avg", 2)),
                  (Pool("avg", 2), Pool("max", 2)), ()]:  # fmt: skip
        assert torch.equal(_activate_pool(f, z, pools), _pool_all(f(z), pools)), pools


def test_sign_is_plus_one_at_both_zeros_and_max_pool_matches_the_library_kernel():
    from stochsyn.deep.activations import sign_pm1
    from stochsyn.deep.pooling import max_pool

    x = torch.tensor([-0.0, 0.0, 1e-30, -1e-30, 3.0, -2.0, float("inf"), -float("inf")])
    assert sign_pm1(x).tolist() == [1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]
    z = torch.randn(3, 4, 7, 9, generator=torch.Generator().manual_seed(0))
    for k in (1, 2, 3, 4):
        assert torch.equal(max_pool(z, k), torch.nn.functional.max_pool2d(z, k))  # no gradient: strided maxima
        g = z.clone().requires_grad_()
        max_pool(g, k).sum().backward()  # with one: the library kernel, one winner per window
        assert g.grad.sum() == max_pool(z, k).numel()


def test_sign_max_pool_mean_field_matches_sample_mode():
    """Mean-field first layer after max pooling vs Monte Carlo of the sample mode (independent
    pre-activations: the local reparameterization the moment rules assume)."""
    model = build_model("stochastic", "cnn:2c3-p2-10", max_pool="independent").eval()
    x = torch.rand(1, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    a = model.preprocess(x)
    conv, bn = model.layers[0], model.norms[0]
    with torch.no_grad():
        mean, var = bn.forward_moments(*conv.forward_moments(a, None))
        mf, mf_var = model._activate_pool_moments(mean, var, model.pools[0])
        g = torch.Generator().manual_seed(4)
        draws = [
            torch.nn.functional.max_pool2d(model.act(bn.forward_sample(conv.forward_sample(a, g))), 2)
            for _ in range(4000)
        ]
    mc = torch.stack(draws)
    assert (mf - mc.mean(0)).abs().max() < 0.06
    assert (mf_var - mc.var(0)).abs().max() < 0.06


@pytest.mark.parametrize("kind", ["stochastic", "binaryconnect"])
def test_cnn_training_run_beats_chance_and_reloads(tmp_path, kind):
    data = synthetic_dataset(n_train=400, n_test=200, seed=5)
    m = train(tmp_path / kind, model=kind, arch="cnn:8c3-p2-16c3-p2-32-10", dataset="synthetic", epochs=2, seed=0,
              data=data, threads=1, calib_samples=200)  # fmt: skip
    last = m["epochs"][-1]
    assert last["test_accuracy_deployed"] > 0.5  # chance is 0.1
    model, cfg = load_run(tmp_path / kind)
    assert cfg["arch"] == "cnn:8c3-p2-16c3-p2-32-10" and model.architecture.family == "cnn"


def _equal_polarization(layer) -> None:
    """Give every synapse of an output unit the same |field| (random signs): each unit's Var W is uniform."""
    with torch.no_grad():
        p = layer.h if hasattr(layer, "h") else layer.fields
        shape = p.shape[:-1] if hasattr(layer, "fields") else p.shape
        mag = torch.rand(shape[0]).view(-1, *([1] * (len(shape) - 1))) * 2 + 0.1
        h = mag * torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)
        if hasattr(layer, "fields"):
            layer.fields[..., 0].copy_(-h)
            layer.fields[..., 1].copy_(h)
        else:
            layer.h.copy_(h)


def _small_stochastic_layer(synapses: str, kind: str):
    """A 20 → 6 dense layer or a 3 → 6 channel 3×3 convolution (padding 1) of the given synapses."""
    from stochsyn.deep.layers import (
        StochasticBinaryConv2d,
        StochasticBinaryLinear,
        StochasticTernaryConv2d,
        StochasticTernaryLinear,
    )

    cls = {("binary", "linear"): StochasticBinaryLinear, ("ternary", "linear"): StochasticTernaryLinear,
           ("binary", "conv"): StochasticBinaryConv2d, ("ternary", "conv"): StochasticTernaryConv2d}[synapses, kind]  # fmt: skip
    return cls(20, 6) if kind == "linear" else cls(3, 6, 3, padding=1)


@pytest.mark.parametrize("synapses", ["binary", "ternary"])
@pytest.mark.parametrize("kind", ["linear", "conv"])
def test_filter_mean_variance_is_exact_for_equally_polarized_units_and_only_then(synapses, kind):
    torch.manual_seed(3)
    layer = _small_stochastic_layer(synapses, kind)
    shape = (5, 20) if kind == "linear" else (5, 3, 8, 8)
    a, s = torch.randn(shape), torch.rand(shape)

    def both():
        layer.variance = "exact"
        ref = layer.forward_moments(a, s)
        layer.variance = "filter-mean"
        return ref, layer.forward_moments(a, s)

    (m0, v0), (m1, v1) = both()  # random fields: the approximation differs
    assert torch.equal(m0, m1) and not torch.allclose(v0, v1, rtol=1e-3)
    _equal_polarization(layer)
    (m0, v0), (m1, v1) = both()
    assert torch.equal(m0, m1) and torch.allclose(v0, v1, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("synapses", ["binary", "ternary"])
@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("variance", ["exact", "filter-mean"])
def test_pm1_inputs_give_the_exact_variance_once_for_the_batch(synapses, kind, variance):
    torch.manual_seed(4)
    layer = _small_stochastic_layer(synapses, kind)
    x = torch.where(torch.rand((5, 20) if kind == "linear" else (5, 3, 8, 8)) < 0.5, -1.0, 1.0)
    layer.variance = "exact"
    m_ref, v_ref = layer.forward_moments(x)  # the general rule on the same ±1 values
    layer.variance = variance
    m, v = layer.forward_moments(x, pm1_inputs=True)
    assert v.shape[0] == 1 and torch.equal(m, m_ref)
    assert torch.allclose(v.expand_as(v_ref), v_ref, rtol=1e-5, atol=1e-5)  # border units included
    with pytest.raises(ValueError, match="var must be None"):
        layer.forward_moments(x, torch.zeros_like(x), pm1_inputs=True)


def test_all_units_sampled_is_the_general_pass_on_the_drawn_values():
    """sample_units=1: the pass with per-batch variances equals the general rule fed the same draws."""
    import stochsyn.deep.models as models

    net = build_model("stochastic", "cnn:4c3-p2-8c3-p2-16-10", sample_units=1.0, variance="exact")
    net.train()
    x = torch.rand(6, 1, 28, 28)
    torch.manual_seed(7)
    fast = net(x)
    seen = []
    original = models._sample_sign_units

    def keep_var(mean, var, rate):  # the same draws, but hand the drawn values on with zero variance
        hard, none = original(mean, var, rate)
        seen.append(hard)
        return hard, torch.zeros_like(mean)

    models._sample_sign_units = keep_var
    try:
        torch.manual_seed(7)
        slow = net(x)
    finally:
        models._sample_sign_units = original
    assert len(seen) == 3 and torch.allclose(fast, slow, rtol=1e-4, atol=1e-5)


def test_variance_option_is_checked_and_stored():
    net = build_model("stochastic", "cnn:4c3-p2-16-10", variance="filter-mean")
    assert net.hparams()["variance"] == "filter-mean"
    assert all(layer.variance == "filter-mean" for layer in net.layers if hasattr(layer, "variance"))
    # the default follows the unit type (models.default_unit_rule)
    assert build_model("stochastic", "mlp:784-16-10").hparams()["variance"] == "filter-mean"
    assert build_model("stochastic", "mlp:784-16-10", activation="relu").hparams()["variance"] == "exact"
    with pytest.raises(ValueError, match="variance="):
        build_model("stochastic", "mlp:784-16-10", variance="diagonal")


def test_runs_stored_before_the_max_pool_default_changed_keep_independent_pooling(tmp_path):
    """A config.json without max_pool was written when "independent" was the default: load_run
    and --resume read it so; new configs always carry the option."""
    import json

    from stochsyn.deep import load_run, train
    from stochsyn.deep.data import synthetic_dataset

    data = synthetic_dataset(n_train=120, n_test=40, seed=0)
    kw = dict(model="stochastic", arch="cnn:2c3-p2-8-10", dataset="synthetic", seed=1, data=data,
              batch_size=40, calib_samples=40, threads=1)  # fmt: skip
    train(tmp_path / "new", epochs=1, **kw)
    assert json.loads((tmp_path / "new" / "config.json").read_text())["model_options"]["max_pool"] == "comonotone"
    assert load_run(tmp_path / "new")[0].max_pool == "comonotone"
    train(tmp_path / "old", epochs=1, model_options={"max_pool": "independent"}, **kw)
    cfg_path = tmp_path / "old" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    del cfg["model_options"]["max_pool"]  # as written before the change
    cfg_path.write_text(json.dumps(cfg))
    assert load_run(tmp_path / "old")[0].max_pool == "independent"
    train(tmp_path / "old", epochs=2, resume=True, model_options={"max_pool": "independent"}, **kw)
    with pytest.raises(ValueError, match="model_options"):
        train(tmp_path / "old", epochs=3, resume=True, **kw)
    # where max_pool does not act (no max pooling) configs carry no max_pool, as before
    mlp = {**kw, "arch": "mlp:784-8-10"}
    train(tmp_path / "mlp", epochs=1, **mlp)
    assert "max_pool" not in json.loads((tmp_path / "mlp" / "config.json").read_text())["model_options"]
    train(tmp_path / "mlp", epochs=2, resume=True, **mlp)


def test_runs_stored_before_the_variance_default_changed_keep_the_exact_rule(tmp_path):
    """A config.json without variance was written when "exact" was every model's default."""
    import json

    from stochsyn.deep import load_run, train
    from stochsyn.deep.data import synthetic_dataset

    data = synthetic_dataset(n_train=120, n_test=40, seed=0)
    kw = dict(model="stochastic", arch="mlp:784-8-10", dataset="synthetic", seed=1, data=data,
              batch_size=40, calib_samples=40, threads=1)  # fmt: skip
    train(tmp_path / "new", epochs=1, **kw)
    assert json.loads((tmp_path / "new" / "config.json").read_text())["model_options"] == {
        "variance": "filter-mean", "sample_units": 1.0, "sample_warmup": 200}
    train(tmp_path / "relu", epochs=1, model_options={"activation": "relu"}, **kw)
    assert json.loads((tmp_path / "relu" / "config.json").read_text())["model_options"]["variance"] == "exact"
    train(tmp_path / "old", epochs=1, model_options={"variance": "exact"}, **kw)
    cfg_path = tmp_path / "old" / "config.json"
    cfg = json.loads(cfg_path.read_text())
    del cfg["model_options"]["variance"]  # as written before the change
    cfg_path.write_text(json.dumps(cfg))
    model, _ = load_run(tmp_path / "old")
    assert all(layer.variance == "exact" for layer in model.layers)
    train(tmp_path / "old", epochs=2, resume=True, model_options={"variance": "exact"}, **kw)
    with pytest.raises(ValueError, match="model_options"):
        train(tmp_path / "old", epochs=3, resume=True, **kw)


def test_unit_draws_begin_after_the_warmup_steps(tmp_path):
    torch.manual_seed(0)
    x = torch.rand(6, 1, 28, 28)
    plain = build_model("stochastic", "cnn:4c3-p2-16-10", sample_units=0.0).train()
    warm = build_model("stochastic", "cnn:4c3-p2-16-10", sample_warmup=3).train()  # sign units: draws by default
    warm.load_state_dict(plain.state_dict())
    assert warm.sample_units == 1.0 and warm.draws_on  # used directly, a model draws at once
    warm.set_step(2)
    assert torch.equal(warm(x), plain(x))
    warm.set_step(3)
    assert not torch.equal(warm(x), plain(x))
    with pytest.raises(ValueError, match="sample_warmup"):
        build_model("stochastic", "cnn:4c3-p2-16-10", sample_warmup=-1)
    # the trainer counts steps over the run: 4 steps < the default warm-up of 200, so the
    # default run is the pure mean-field run
    data = synthetic_dataset(n_train=100, n_test=40, seed=0)
    kw = dict(model="stochastic", arch="cnn:2c3-p2-8-10", dataset="synthetic", seed=1, data=data,
              batch_size=50, calib_samples=40, threads=1, epochs=2)  # fmt: skip
    a = train(tmp_path / "default", **kw)["epochs"]
    b = train(tmp_path / "meanfield", model_options={"sample_units": 0.0}, **kw)["epochs"]
    assert [r["train_loss"] for r in a] == [r["train_loss"] for r in b]
    c = train(tmp_path / "drawn", model_options={"sample_warmup": 1}, **kw)["epochs"]
    assert c[0]["train_loss"] != a[0]["train_loss"]


@pytest.mark.parametrize("arch", ["cnn:4c3-p2-6c3-p2-8-10", "cnn:4c3-p2-a2-6c3-8-10", "cnn:4c3-a2-p2-5c3-p3-10"])
@pytest.mark.parametrize("act", ["sign", "relu"])
def test_calibration_gives_every_layer_the_statistics_of_its_deployed_preactivations(arch, act):
    """calibrate_deploy pools before batch norm (on s z, s = sign gamma): every layer's deploy
    statistics must still be those of the pre-activations the deployed network computes."""
    model = build_model("stochastic", arch, activation=act).eval()
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for bn in model.norms:  # scales of both signs, so that some max pools see flipped channels
            bn.weight.copy_(torch.rand(bn.weight.shape, generator=g) * 2 - 1)
            bn.bias.copy_(torch.rand(bn.bias.shape, generator=g) - 0.5)
    assert any((bn.weight < 0).any() for bn in model.norms)
    x = torch.rand(37, 1, 28, 28, generator=g)
    model.calibrate_deploy(x, batch_size=8)
    seen = []
    hooks = [bn.register_forward_pre_hook(lambda m, args: seen.append(args[0].double())) for bn in model.norms]
    with torch.no_grad():
        model.set_mode("deploy")(x)
    for h in hooks:
        h.remove()
    assert len(seen) == len(model.norms)
    for bn, z in zip(model.norms, seen):
        var, mean = torch.var_mean(z, dim=[d for d in range(z.dim()) if d != 1], correction=0)
        assert torch.allclose(bn.deploy_mean.double(), mean, rtol=1e-5, atol=1e-5)
        assert torch.allclose(bn.deploy_var.double(), var, rtol=1e-4, atol=1e-6)
