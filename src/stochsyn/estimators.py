"""scikit-learn compatible classifiers backed by the stochsyn solvers.

:class:`BinaryPerceptronClassifier` learns a perceptron whose weights are ±1
(binary synapses) with any registered solver — by default the paper's
stochastic-synapse gradient descent (Baldassi et al., PRL 2018). Inputs may be
any real features: the central-limit variance then includes ξ² (see
:mod:`stochsyn.clt`).

Examples:
    >>> from sklearn.datasets import make_classification
    >>> from stochsyn.estimators import BinaryPerceptronClassifier
    >>> X, y = make_classification(n_samples=200, n_features=40, random_state=0)
    >>> clf = BinaryPerceptronClassifier(random_state=0).fit(X, y)
    >>> clf.coef_.dtype, set(clf.coef_.tolist()) <= {-1, 1}
    (dtype('int8'), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .problems import Instance
from .solvers import available, solve

__all__ = ["BinaryPerceptronClassifier"]


class BinaryPerceptronClassifier(ClassifierMixin, BaseEstimator):
    """Binary classifier sign(Σ_j c_j x̃_j + b) built from binary synapses W ∈ {±1}.

    x̃ are the features after optional standardization (per-feature centering and
    scaling learned in ``fit``). Each feature reaches the unit through K binary
    synapses (``synapses_per_feature``), so its coefficient c_j = Σ_k W_jk is an
    integer in {−K, −K+2, …, K}; K = 1 is the plain binary perceptron. With few
    features one binary weight per feature can only point along the diagonals,
    so "auto" uses K = ceil(32 / n_features) (K = 1 from 32 features up). The
    optional intercept is a block of binary synapses on a constant input
    ``intercept_scaling`` (as in liblinear), b = intercept_scaling · Σ W_bias,
    with K·ceil(√n_features) synapses in the block.

    Args:
        solver: name of a registered solver (``stochsyn.solvers.available()``);
            default ``"stochastic"``.
        solver_options: dict of options passed to the solver (see its docstring).
        synapses_per_feature: K ≥ 1, or "auto" (default).
        standardize: center and scale each feature before training (default True).
        fit_intercept: add a constant input with its own binary synapse (default True).
        intercept_scaling: value of that constant input (default 1.0).
        random_state: int seed for the solver (None means 0, so fits are reproducible).

    Attributes:
        classes_: the two class labels; ``classes_[1]`` is the positive class.
        coef_: (n_features,) int8 coefficients c_j = Σ_k W_jk (±1 when K = 1).
        intercept_: float bias b.
        synapses_: the binary weights W (int8 ±1), features first, K per feature
            (feature-major), then the intercept block.
        synapses_per_feature_: the K used.
        mean_, scale_: standardization parameters (zeros/ones if ``standardize=False``).
        n_features_in_: number of features seen in ``fit``.
        result_: the solver's :class:`stochsyn.solvers.Result`.
        training_errors_: misclassified training samples.
    """

    def __init__(
        self,
        solver: str = "stochastic",
        solver_options: dict[str, Any] | None = None,
        synapses_per_feature: int | str = "auto",
        standardize: bool = True,
        fit_intercept: bool = True,
        intercept_scaling: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.solver = solver
        self.solver_options = solver_options
        self.synapses_per_feature = synapses_per_feature
        self.standardize = standardize
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state

    def __sklearn_tags__(self):  # noqa: D105
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _design(self, X: np.ndarray) -> np.ndarray:
        """Inputs seen by the binary synapses: replicated standardized features + constant block."""
        Z = np.repeat((X - self.mean_) / self.scale_, self.synapses_per_feature_, axis=1)
        if self.fit_intercept:
            Z = np.hstack([Z, np.full((Z.shape[0], self.n_intercept_synapses_), float(self.intercept_scaling))])
        return Z

    def fit(self, X: Any, y: Any) -> "BinaryPerceptronClassifier":
        """Learn binary weights on (X, y); y must contain exactly two classes."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size != 2:
            raise ValueError(
                f"Only binary classification is supported: BinaryPerceptronClassifier needs exactly 2 classes "
                f"in y, got {classes.size} class(es): "
                f"{classes.tolist()[:5]}"
            )
        if self.solver not in available():
            raise ValueError(f"unknown solver={self.solver!r}; expected one of {available()}")
        if not (np.isfinite(self.intercept_scaling) and self.intercept_scaling > 0):
            raise ValueError(f"intercept_scaling must be > 0, got {self.intercept_scaling!r}")
        if self.random_state is not None and not isinstance(self.random_state, (int, np.integer)):
            raise TypeError(f"random_state must be an int or None, got {self.random_state!r}")
        k = self.synapses_per_feature
        if isinstance(k, str):
            if k != "auto":
                raise ValueError(f"synapses_per_feature must be a positive int or 'auto', got {k!r}")
            k = int(np.ceil(32 / X.shape[1]))
        elif isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 127:
            raise ValueError(f"synapses_per_feature must be an int in [1, 127] or 'auto', got {k!r}")
        self.synapses_per_feature_ = int(k)
        self.n_intercept_synapses_ = int(k * np.ceil(np.sqrt(X.shape[1]))) if self.fit_intercept else 0
        self.classes_ = classes
        if self.standardize:
            self.mean_ = X.mean(axis=0)
            scale = X.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
        else:
            self.mean_ = np.zeros(X.shape[1])
            self.scale_ = np.ones(X.shape[1])
        Z = self._design(X)
        labels = np.where(y == classes[1], 1, -1).astype(np.int8)
        seed = 0 if self.random_state is None else int(self.random_state)
        result = solve(Instance(Z, labels), method=self.solver, seed=seed, **(self.solver_options or {}))
        w = result.weights
        n_feat = X.shape[1] * self.synapses_per_feature_
        self.synapses_ = w.copy()
        self.coef_ = w[:n_feat].reshape(X.shape[1], self.synapses_per_feature_).sum(axis=1, dtype=np.int64)
        self.coef_ = self.coef_.astype(np.int8)
        self.intercept_ = float(w[n_feat:].sum(dtype=np.int64)) * float(self.intercept_scaling)
        self.result_ = result
        self.training_errors_ = int(result.errors)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Σ_i W_i x̃_i + b for each sample; positive means ``classes_[1]``."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Z = (X - self.mean_) / self.scale_
        return Z @ self.coef_.astype(np.float64) + self.intercept_

    def predict(self, X: Any) -> np.ndarray:
        """Class labels; a zero field goes to ``classes_[1]`` (sign(0) := +1)."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) >= 0).astype(int)]
