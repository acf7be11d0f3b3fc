"""Instance type, generators, validation and npz round-trip."""

import os

import numpy as np
import pytest

from stochsyn.problems import Instance, count_errors, n_patterns, random_patterns, teacher_student


def test_random_patterns_shape_dtype_and_rounding():
    inst = random_patterns(1001, 0.6, seed=3)
    assert inst.patterns.shape == (601, 1001)
    assert inst.patterns.dtype == np.int8 and inst.labels.dtype == np.int8
    assert set(np.unique(inst.patterns)) == {-1, 1}
    assert n_patterns(10, 0.25) == 3  # floor(2.5 + 0.5): halves round up
    assert n_patterns(10, 0.24) == 2


def test_same_seed_same_instance_and_different_seed_differs():
    a, b, c = random_patterns(51, 0.5, seed=7), random_patterns(51, 0.5, seed=7), random_patterns(51, 0.5, seed=8)
    assert np.array_equal(a.patterns, b.patterns) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.patterns, c.patterns)


@pytest.mark.parametrize("n", [100, 101])
def test_teacher_is_a_solution_and_test_set_uses_it(n):
    inst = teacher_student(n, 1.5, seed=1)
    assert inst.teacher is not None
    assert inst.errors(inst.teacher) == 0  # even N: orthogonal patterns were redrawn
    test = inst.test_set(500, seed=2)
    assert test.p == 500 and test.errors(inst.teacher) == 0
    assert not np.array_equal(test.patterns[: inst.p], inst.patterns[: min(500, inst.p)])


def test_count_errors_counts_ties_as_errors():
    x = np.array([[1, -1], [1, 1], [-1, -1]], dtype=np.int8)
    y = np.array([1, 1, 1], dtype=np.int8)
    w = np.array([1, 1], dtype=np.int8)
    # fields 0, 2, -2 -> tie and negative are errors
    assert count_errors(x, y, w) == 2
    assert Instance(x, y).errors(w) == 2


def test_real_patterns_are_kept_as_float():
    x = np.array([[0.5, -1.0], [2.0, 1.0]])
    inst = Instance(x, [1, -1])
    assert inst.patterns.dtype == np.float64 and not inst.binary_patterns
    # fields: 0.5 + 1 = 1.5 (label +1, correct); 2 - 1 = 1 (label -1, wrong)
    assert inst.errors(np.array([1, -1])) == 1


@pytest.mark.parametrize(
    "patterns, labels, match",
    [
        (np.ones((3, 4)), np.array([1, 0, -1]), "labels must contain only"),
        (np.ones((3, 4)), np.array([1, 1]), "labels must have shape"),
        (np.array([[1.0, np.nan]]), np.array([1]), "NaN or inf"),
        (np.array([[1.0, np.inf]]), np.array([1]), "NaN or inf"),
        (np.ones((0, 4)), np.ones(0), "non-empty"),
        (np.ones(4), np.ones(4), "2-D"),
    ],
)
def test_validation_errors(patterns, labels, match):
    with pytest.raises(ValueError, match=match):
        Instance(patterns, labels)


def test_generator_argument_errors():
    with pytest.raises(ValueError, match="n must be >= 1"):
        random_patterns(0, 0.5)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0.0, inf\)"):
        random_patterns(11, 0.0)
    with pytest.raises(ValueError, match=r"alpha must lie in \(0.0, inf\)"):
        teacher_student(11, -1.0)
    with pytest.raises(TypeError, match="n must be an integer"):
        random_patterns(10.5, 0.5)
    with pytest.raises(ValueError, match="0 patterns"):
        random_patterns(3, 0.1)
    with pytest.raises(ValueError, match="teacher"):
        random_patterns(11, 0.5).test_set(10)


def test_save_load_round_trip(tmp_path):
    inst = teacher_student(31, 0.7, seed=4)
    path = inst.save(tmp_path / "sub" / "inst.npz")
    back = Instance.load(path)
    assert np.array_equal(back.patterns, inst.patterns)
    assert np.array_equal(back.labels, inst.labels)
    assert np.array_equal(back.teacher, inst.teacher)
    assert back.patterns.dtype == np.int8
    assert not any(p.name.endswith(".tmp.npz") for p in path.parent.iterdir())
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # not mkstemp's 0600


def test_load_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="cannot read instance file"):
        Instance.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, foo=np.ones(3))
    with pytest.raises(ValueError, match="not a stochsyn instance"):
        Instance.load(other)
    with pytest.raises(FileNotFoundError):
        Instance.load(tmp_path / "missing.npz")
