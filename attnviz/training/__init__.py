"""Workflows that make what attnviz ships: training, evaluation, bundling a trained model with
its card and profile, and fetching Imagenette."""
