"""The charts of each page with their captions, built from the library's results (Streamlit-free,
so notebooks, reports and tests can build the same charts)."""
