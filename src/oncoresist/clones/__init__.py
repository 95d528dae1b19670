"""Clonal deconvolution: clone CCFs, clone trees under the sum rule, and their figures."""
