"""Analyses of loaded models and images: inference with capture, the walkthrough, the scale
experiment, attribution, model comparison, the open-set signal, and the statistics and claims
they state."""
