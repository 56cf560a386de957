"""App-level logic that does not need Streamlit: image inputs and their cache keys, the model
picker's choices, the analysis cache, and the assembly of each page's charts.

``render`` is the one module that imports Streamlit; everything else is usable from notebooks,
the CLI, benchmarks and plain tests.
"""
