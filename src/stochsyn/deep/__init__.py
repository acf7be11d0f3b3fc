"""Deep networks with stochastic binary synapses (PyTorch), their baselines, data and trainer.

See docs/deep.md. Main entry points: :func:`build_model`, :func:`train`,
:func:`load_run`, :func:`load_dataset`, and the layers
:class:`StochasticBinaryLinear` / :class:`StochasticBinaryConv2d`.
"""

from .activations import relu_moments, sign_moments, sign_pm1, ste_sign
from .baselines import BinaryConnectLinear
from .data import Dataset, load_dataset, read_idx
from .layers import MeanVarBatchNorm, StochasticBinaryConv2d, StochasticBinaryLinear
from .models import MODEL_KINDS, BNNMLP, BinaryConnectMLP, DeepModel, FloatMLP, StochasticCNN, StochasticMLP, build_model, parse_arch
from .train import evaluate, evaluate_ensemble, load_run, make_config, train

__all__ = [
    "relu_moments", "sign_moments", "sign_pm1", "ste_sign", "BinaryConnectLinear", "Dataset", "load_dataset",
    "read_idx", "MeanVarBatchNorm", "StochasticBinaryConv2d", "StochasticBinaryLinear", "MODEL_KINDS", "BNNMLP",
    "BinaryConnectMLP", "DeepModel", "FloatMLP", "StochasticCNN", "StochasticMLP", "build_model", "parse_arch",
    "evaluate", "evaluate_ensemble", "load_run", "make_config", "train",
]  # fmt: skip
