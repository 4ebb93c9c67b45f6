"""Inference benchmarks (`make bench`): the limit, the HTTP service and a naive baseline, in one run."""
