"""Deterministic sample of the six planning layers on the real communes of the Eure.

Communes are real open data; roads, FttH network, masts and power points are synthetic
but plausible.
"""

from planning.sample.generator import Sample, generate_sample
from planning.sample.writer import write_sample

__all__ = ["Sample", "generate_sample", "write_sample"]
