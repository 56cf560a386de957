"""The Streamlit app: the shared sidebar and state, and one module per page.

``app.py`` at the project's root is the entry (``streamlit run app.py``); everything the pages
compute comes from the library (``attnviz.*``), and the charts of each page from
``attnviz.views``. Needs the ``app`` extra (streamlit, plotly).
"""
