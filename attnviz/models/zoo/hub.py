"""timm's pretrained weights on this machine: already downloaded, or a download (and is the
server reachable?).

timm takes pretrained weights from the Hugging Face hub (cached by ``huggingface_hub``) or, for a
few older models, from a URL (cached by ``torch.hub`` in ``<torch hub dir>/checkpoints``, where
timm's ``load_state_dict_from_url`` puts them). Only public APIs of timm, huggingface_hub and
torch are used here.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import timm
import torch


def hub_cached(hf_hub_id: str) -> str | None:
    """Path of the weights file timm would use from the Hugging Face cache, if cached."""
    from huggingface_hub import try_to_load_from_cache

    repo, _, revision = hf_hub_id.partition("@")
    for filename in ("model.safetensors", "pytorch_model.bin"):
        hit = try_to_load_from_cache(repo, filename, revision=revision or None)
        if isinstance(hit, str):
            return hit
    return None


def url_cached(url: str) -> bool:
    """Is the file of ``url`` in torch hub's checkpoint folder (where timm downloads url weights)?"""
    return (Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)).exists()


def reachable(url: str, timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to the host of ``url``? Answers in seconds, where the hub
    client would retry for most of a minute before giving up."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # behind a proxy a direct connection says nothing; let the hub client try
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _url(url: str | tuple[str, str]) -> str:
    """The address in a timm ``pretrained_cfg.url``: a string, or timm's (url, file name) pair."""
    return url if isinstance(url, str) else url[0]


def pretrained_status(name: str) -> str:
    """'cached' when the pretrained weights of timm architecture ``name`` are already on this
    machine, else 'download'."""
    cfg = timm.models.get_pretrained_cfg(name)
    if cfg is None:
        return "download"
    if cfg.hf_hub_id and hub_cached(cfg.hf_hub_id) is not None:
        return "cached"
    if cfg.url and url_cached(_url(cfg.url)):
        return "cached"
    return "download"


def download_source(name: str) -> str:
    """Where timm would download the pretrained weights of ``name`` from: the Hugging Face hub's
    endpoint, or the weights' URL ('' when timm knows none)."""
    from huggingface_hub import constants

    cfg = timm.models.get_pretrained_cfg(name)
    if cfg is None:
        return ""
    return constants.ENDPOINT if cfg.hf_hub_id else (_url(cfg.url) if cfg.url else "")
