"""Serving-time inference: image decoding and preprocessing, the dynamic batcher, runtime settings."""
