"""Related models: sparse associative memory with synaptic noise and self-control, MPN sequence memory.

* :mod:`.sparse_hopfield` — {0,1} patterns, covariance couplings, synaptic noise, thresholds.
* :mod:`.layered` — layered feedforward network: exact N → ∞ recursion + finite-N simulation.
* :mod:`.fully_connected` — recurrent network: simulation + approximate (one-step feedback) dynamics.
* :mod:`.information` — mutual information I(m, q; a).
* :mod:`.capacity` — storage capacity, basins of attraction, best fixed threshold vs self-control.
* :mod:`.sequences` — McCulloch–Pitts network (MPN) sequence learning, frame-step approximation, and the asymmetric-Hebb baseline.
* :mod:`.mpn_continuous` — the MPN as the exact continuous-time jump process: Gillespie simulation, path likelihood, local rule.
"""
