"""Every ``st.session_state`` key that one module writes and another reads, named once.

A bare string written in the sidebar and read in a page script breaks silently when one side is
renamed; a constant breaks at import. Keys owned by one module alone stay beside their code.
"""
from __future__ import annotations

#: The sample-photo picker's widget key: the paths of the chosen sample photos.
SAMPLES = "samples"
#: The language picker's widget key (its value: a code of ``attnviz.i18n.LANGUAGES``).
LANGUAGE_PICKER = "language_picker"
#: The live example: the first sample photo the model knows (set by the sidebar on every run).
EXAMPLE = "_example"
#: True once the live example has been chosen for this session (chosen once only).
EXAMPLE_STARTED = "_example_started"
#: True while the picker holds only the example chosen for the visitor (a first upload replaces it).
EXAMPLE_AUTO = "_example_auto"
#: The bytes of an uploaded weights file (``attnviz.serving.models.WeightsBlob``).
WEIGHTS_BLOB = "_weights_blob"
#: Models that failed to load in this session: request -> its message (not retried on every run).
LOAD_FAILURES = "_load_failures"
#: (name, PNG bytes) of a frame frozen on the Live page, offered by the sidebar as an image.
LIVE_FROZEN = "_live_frozen"
