"""Class profiles at scale: per scale x class x gate x path x channel statistics of gate values.

``profile_images`` for a few images in memory, ``profile_dataset`` (and ``attnviz profile``) for
whole datasets, on one device or many (torchrun). The result is a ``attnviz.profiles.profile.Profile``.

Modules: ``datasets`` (what to read), ``accumulator`` (streaming statistics on the device),
``runner`` (the loop, progress, checkpoints), ``distributed`` (sharding and merging).
"""
from .accumulator import ProfileAccumulator, merge_moments
from .datasets import ProfileData, folder_with_csv, image_folder, open_data
from .runner import profile_dataset, profile_images

__all__ = ["ProfileAccumulator", "ProfileData", "folder_with_csv", "image_folder", "merge_moments",
           "open_data", "profile_dataset", "profile_images"]
