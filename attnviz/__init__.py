"""attnviz: see channel attention (SE, SK, split attention) inside convolutional networks.

Data flows one way: load model -> preprocess -> forward with capture -> statistics -> figures.

>>> from attnviz import load_model, load_image, analyse_images
>>> m = load_model("se_resnet18_imagenette")
>>> [a] = analyse_images(m, [load_image("photo.jpg")])
>>> a.values["SE_5_2"]        # excitation s of block SE_5_2, shape (1, C)
"""
from .capture import AttentionCapture, CaptureResult
from .errors import AttnvizError, ImageLoadError, ModelLoadError
from .gates import Gate, discover_gates
from .images import load_image, load_images
from .inference import ImageAnalysis, analyse_images, forward_with_capture
from .profiles import Profile, load_profile
from .zoo import LoadedModel, default_model_name, list_models, load_model, load_model_file

__version__ = "0.1.0"

__all__ = [
    "AttentionCapture", "AttnvizError", "CaptureResult", "Gate", "ImageAnalysis", "ImageLoadError",
    "LoadedModel", "ModelLoadError", "Profile", "analyse_images", "default_model_name",
    "discover_gates", "forward_with_capture", "list_models", "load_image", "load_images",
    "load_model", "load_model_file", "load_profile",
]
