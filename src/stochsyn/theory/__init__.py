"""Replica-symmetric theory of the binary perceptron and of stochastic synapses.

Pure functions of the control parameters (load α, margin κ, distance d, …);
Gaussian integrals by Gauss–Hermite quadrature (or composite Gauss–Legendre for
truncated measures), saddle points by damped fixed-point iteration with a
convergence report. See docs/theory.md for the derivations.
"""
