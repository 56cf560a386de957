"""The app's page scripts: Streamlit runs each one for its URL (``app.py``'s navigation)."""
