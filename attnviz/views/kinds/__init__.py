"""Each attention kind's view: the words a person reads about it (``common.KindView``), one file
per kind beside the kind's own file in ``attnviz/gates/``. Importing a file registers its view."""
from . import se, eca, sk, splat, cbam  # noqa: F401  (the views, in the order of the kinds)
from .common import (ChannelGateView, KindView, Panel, Row, SelectionView, SelectionWords, register_view, value_label,
                     view_of)

__all__ = ["ChannelGateView", "KindView", "Panel", "Row", "SelectionView", "SelectionWords", "register_view",
           "value_label", "view_of"]
