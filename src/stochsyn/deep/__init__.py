"""Deep networks with stochastic binary synapses (PyTorch), their baselines, data and trainer.

See docs/deep.md. Main entry points: :func:`build_model`, :func:`train`,
:func:`load_run`, :func:`load_dataset`, and the layers
:class:`StochasticBinaryLinear` / :class:`StochasticBinaryConv2d`.
"""

from .activations import relu_moments, sign_moments, sign_pm1, ste_sign
from .architecture import DEFAULT_CNN, Architecture, parse_architecture
from .baselines import BinaryConnectConv2d, BinaryConnectLinear, TernaryWeightConv2d, TernaryWeightLinear
from .data import Dataset, load_dataset, read_idx
from .layers import (
    MeanVarBatchNorm,
    StochasticBinaryConv2d,
    StochasticBinaryLinear,
    StochasticTernaryConv2d,
    StochasticTernaryLinear,
)
from .models import (
    BNNMLP, MODEL_KINDS, BinaryConnectMLP, BinaryConnectNet, BNNNet, DeepModel, FloatMLP, FloatNet, StochasticCNN,
    StochasticMLP, StochasticNet, TWNNet, build_model, parse_arch,
)  # fmt: skip
from .train import evaluate, evaluate_ensemble, load_run, make_config, train

__all__ = [
    "relu_moments", "sign_moments", "sign_pm1", "ste_sign", "BinaryConnectLinear", "Dataset", "load_dataset",
    "read_idx", "MeanVarBatchNorm", "StochasticBinaryConv2d", "StochasticBinaryLinear", "MODEL_KINDS", "BNNMLP",
    "BinaryConnectMLP", "BinaryConnectConv2d", "BinaryConnectNet", "BNNNet", "FloatNet", "StochasticNet",
    "TWNNet", "TernaryWeightConv2d", "TernaryWeightLinear", "StochasticTernaryConv2d", "StochasticTernaryLinear",
    "DEFAULT_CNN", "Architecture", "parse_architecture", "DeepModel", "FloatMLP", "StochasticCNN", "StochasticMLP", "build_model", "parse_arch",
    "evaluate", "evaluate_ensemble", "load_run", "make_config", "train",
]  # fmt: skip
