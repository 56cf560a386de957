"""The app's heavy imports, done once per process behind one module lock.

Streamlit may start a new run of the script (a rerun, another session) while the first is still
importing. Libraries that look a module up in ``sys.modules`` without importing it (plotly's and
Streamlit's optional-dependency checks) can then meet a half-imported pandas or torch
("partially initialized module"). Every run imports this module first; Python's per-module
import lock makes a second run wait here until the first has finished importing.
"""
import pandas  # noqa: F401  (first: Streamlit and plotly check for it)
import plotly.graph_objects  # noqa: F401
import timm  # noqa: F401
import torch  # noqa: F401

import attnviz.app.render  # noqa: F401
import attnviz.app.sidebar  # noqa: F401
import attnviz.app.state  # noqa: F401
import attnviz.views.explore  # noqa: F401

import gc  # noqa: E402

# Python's full garbage collection walks every tracked object, and Streamlit runs one after every
# script run (runner.postScriptGC). With PyTorch, timm, plotly and pandas loaded that is about
# half a million objects and most of a second per run, holding the GIL: thirty visitors opening
# the app at once waited half a minute. What these imports made lives as long as the process, so
# it goes to the permanent generation, which collections no longer walk.
gc.collect()
gc.freeze()
