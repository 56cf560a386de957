"""Class profiles: the type (``profile``), its file format (``file_format``), the class statistics
read from it (``class_stats``) and its builder (``builder``: streaming over datasets, one or many devices)."""
from .profile import Profile, bundled_profile_path, load_profile

__all__ = ["Profile", "bundled_profile_path", "load_profile"]
