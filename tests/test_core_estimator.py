"""The scikit-learn classifier."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.utils.estimator_checks import check_estimator

from stochsyn.estimators import BinaryPerceptronClassifier


def test_passes_check_estimator():
    results = check_estimator(BinaryPerceptronClassifier(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed
    assert len(results) > 40


def test_any_two_labels_and_binary_coefficients():
    X, y = make_classification(n_samples=200, n_features=40, n_informative=40, n_redundant=0, random_state=0)
    labels = np.array(["cat", "dog"])[y]
    clf = BinaryPerceptronClassifier(random_state=0).fit(X, labels)
    assert list(clf.classes_) == ["cat", "dog"]
    assert clf.synapses_per_feature_ == 1
    assert clf.coef_.dtype == np.int8 and set(np.unique(clf.coef_)) <= {-1, 1}
    assert set(np.unique(clf.synapses_)) <= {-1, 1}
    assert clf.score(X, labels) > 0.8  # logistic regression: 0.98; a binary perceptron at P/N ~ 4: 0.84
    assert set(clf.predict(X)) <= {"cat", "dog"}


def test_random_state_reproducible():
    X, y = make_classification(n_samples=120, n_features=30, random_state=1)
    a = BinaryPerceptronClassifier(random_state=3).fit(X, y)
    b = BinaryPerceptronClassifier(random_state=3).fit(X, y)
    assert np.array_equal(a.synapses_, b.synapses_)


def test_separable_real_inputs_with_binary_teacher_are_fit_exactly():
    rng = np.random.default_rng(0)
    teacher = rng.choice([-1, 1], size=51)
    X = rng.normal(size=(30, 51))
    y = (X @ teacher > 0).astype(int)
    clf = BinaryPerceptronClassifier(standardize=False, fit_intercept=False, random_state=0).fit(X, y)
    assert clf.training_errors_ == 0 and clf.score(X, y) == 1.0


def test_replicated_synapses_give_integer_coefficients():
    X, y = make_classification(n_samples=100, n_features=4, n_redundant=0, random_state=2)
    clf = BinaryPerceptronClassifier(synapses_per_feature=5, random_state=0).fit(X, y)
    assert clf.synapses_.size == 4 * 5 + clf.n_intercept_synapses_
    assert np.all(np.abs(clf.coef_) <= 5) and np.all(clf.coef_ % 2 == 1)  # sum of 5 odd terms is odd


@pytest.mark.parametrize(
    "params, match",
    [
        ({"solver": "nope"}, "unknown solver"),
        ({"synapses_per_feature": 0}, "synapses_per_feature"),
        ({"intercept_scaling": -1.0}, "intercept_scaling"),
    ],
)
def test_bad_parameters(params, match):
    X, y = make_classification(n_samples=40, n_features=5, random_state=0)
    with pytest.raises(ValueError, match=match):
        BinaryPerceptronClassifier(**params).fit(X, y)


def test_multiclass_rejected():
    X = np.random.default_rng(0).normal(size=(30, 4))
    with pytest.raises(ValueError, match="Only binary classification"):
        BinaryPerceptronClassifier().fit(X, np.arange(30) % 3)
