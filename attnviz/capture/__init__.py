"""Capturing gate values in a forward pass: ``AttentionCapture`` (``attention``) and the scoped
forward hooks it owns (``hooks``)."""
from .attention import AttentionCapture, CaptureResult

__all__ = ["AttentionCapture", "CaptureResult"]
