"""Plotly figures, one module per view.

Every function takes numbers (gate values, analyses, profiles, sweeps) and returns a
``plotly.graph_objects.Figure``; none computes a forward pass, so the same figures serve the app,
the notebooks and the CLI.
"""
from .export import chart_config, figure_csv, figure_html

__all__ = ["chart_config", "figure_csv", "figure_html"]
