"""The model zoo: a name becomes a loaded model + its preprocessing + its class names.

Three sources, looked up in this order:

* **bundled** models that we train ourselves and ship in ``assets/models`` (work offline);
* a **local weights file** for any timm architecture (``.safetensors``, or a state-dict
  ``.pth``/``.pt`` read with ``weights_only=True`` so that no arbitrary object is unpickled);
* timm's **pretrained** ImageNet weights, through timm's own download-and-cache mechanism
  (Hugging Face hub cache, or torch hub's for the few older url-only weights).

Without a network and without cached weights, loading fails with one ``ModelLoadError`` that
names the model and lists the remedies.

One concept per module:

* ``catalogue``: the timm models attnviz offers (``TIMM_ZOO``, data), ``list_models``,
  ``weights_status``, ``suggest``, ``describe_zoo``;
* ``bundled``: the bundled models in ``assets/models`` and their cards (``BundledModel``);
* ``weights``: weights files and in-memory blobs read into state dicts;
* ``hub``: whether timm's pretrained weights are cached here or need a download;
* ``loaded``: ``LoadedModel``;
* ``loading``: ``load_model`` and ``wrap_model``;
* ``user``: ``load_model_file`` — a network from the user's own Python file (CLI and Python only,
  never the served app: it runs that file's code).
"""
from .bundled import BundledModel, Preprocessing, bundled_dir, bundled_models, default_model_name
from .catalogue import TIMM_ZOO, describe_zoo, list_models, suggest, weights_status
from .loaded import LoadedModel
from .loading import load_model, wrap_model
from .user import load_model_file
from .weights import WeightsBlob, read_state_dict

__all__ = [
    "BundledModel", "LoadedModel", "Preprocessing", "TIMM_ZOO", "WeightsBlob", "bundled_dir",
    "bundled_models", "default_model_name", "describe_zoo", "list_models", "load_model", "load_model_file",
    "read_state_dict", "suggest", "weights_status", "wrap_model",
]
