"""Bad inputs through the Python API: one exception type per mistake, named by its argument."""

import numpy as np
import pytest

from stochsyn import validation as V


@pytest.mark.parametrize("spec, match", [
    ("0.5:0.75:6", "the step 6 is larger than the range"),
    ("0.5:0.75:0", "the step must be > 0"),
    ("0.75:0.5:0.05", "stop must be >= start"),
    ("0.5:0.75", "a range is 'start:stop:step'"),
    ("x,y", "expected numbers"),
    ("0.1,nan", "finite"),
])
def test_one_range_syntax(spec, match):
    with pytest.raises(ValueError, match=match):
        V.grid(spec, "alpha")
    assert V.grid("0.50:0.75:0.05", "alpha") == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75]


def test_one_seed_syntax():
    assert V.seed_list("3") == [0, 1, 2] and V.seed_list("3:6") == [3, 4, 5] and V.seed_list("1,5") == [1, 5]
    for bad in ("0", "5:5", "-1:3", "1,1", "x"):
        with pytest.raises(ValueError):
            V.seed_list(bad)
    with pytest.raises(TypeError):
        V.seed_list(True)


def test_same_mistake_same_exception_everywhere():
    from stochsyn.problems import random_patterns
    from stochsyn.solvers import solve
    from stochsyn.theory import capacity, gardner_entropy

    inst = random_patterns(21, 0.3)
    # a string where a number is expected: TypeError; a number out of its domain: ValueError
    for call in (lambda: random_patterns("21", 0.3), lambda: solve(inst, lr="fast"),
                 lambda: solve(inst, method="sbpi", max_epochs=2.5), lambda: gardner_entropy("0.5")):
        with pytest.raises(TypeError):
            call()
    for call in (lambda: random_patterns(21, -0.3), lambda: solve(inst, lr=-1.0),
                 lambda: solve(inst, method="sbpi", max_epochs=-1), lambda: capacity(kappa=float("nan"))):
        with pytest.raises(ValueError):
            call()


def test_franz_parisi_refuses_loads_without_typical_solutions():
    from stochsyn.theory import franz_parisi

    with pytest.raises(ValueError, match="above the capacity"):
        franz_parisi(2.0, 0.1)


def test_memory_dynamics_share_one_check():
    from stochsyn.memory.fully_connected import approximate_dynamics, simulate_fully_connected
    from stochsyn.memory.layered import layered_recursion, simulate_layered

    for fn, args in ((layered_recursion, (0.5, 0.05)), (approximate_dynamics, (0.5, 0.05)),
                     (simulate_layered, (100, 0.5, 0.05)), (simulate_fully_connected, (100, 0.5, 0.05))):
        with pytest.raises(TypeError, match="steps must be an integer"):
            fn(*args, steps=True)
        with pytest.raises(ValueError, match="m0 must lie in"):
            fn(*args, m0=2.0, steps=2)


def test_instance_errors_count_in_blocks_without_a_full_cast(monkeypatch):
    import stochsyn.packed.layout as layout
    from stochsyn.problems import count_errors, random_patterns

    inst = random_patterns(65, 2.0, seed=0)
    w = np.where(np.arange(65) % 3 == 0, 1, -1).astype(np.int8)
    full = int(np.count_nonzero(inst.labels * (inst.patterns.astype(np.int64) @ w) <= 0))
    monkeypatch.setattr(layout, "BLOCK_BYTES", 64 * 8 * 7)  # blocks of a few rows
    assert count_errors(inst.patterns, inst.labels, w) == full == inst.errors(w)
