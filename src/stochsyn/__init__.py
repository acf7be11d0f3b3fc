"""stochsyn: low-precision neural networks trained through stochastic synapses.

Implements Baldassi, Gerace, Kappen, Lucibello, Saglietti, Tartaglione, Zecchina,
"On the role of synaptic stochasticity in training low-precision neural
networks", PRL 120, 268103 (2018), arXiv:1710.09825, with the classic solvers it
is compared against, the replica theory, measurements of solution geometry, a
PyTorch extension to deep networks and bit-packed inference.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("stochsyn")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
