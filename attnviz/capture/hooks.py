"""Forward hooks owned by a context manager and scoped to the context that opened it.

The TorchCAM pattern: hooks are registered on ``__enter__`` and always removed on ``__exit__``,
even when the forward pass raises. The app shares one cached model between browser sessions, each
running in its own thread, so two hook owners can be open on the same model at once; every hook
therefore acts only when *its own* owner is the active one in the calling thread's context
(a ``ContextVar`` per subclass), and a forward pass in another thread leaves it untouched.
"""
from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any
from collections.abc import Callable

import torch.nn as nn
from torch.utils.hooks import RemovableHandle


class ScopedHooks:
    """Base class: subclasses register their hooks in ``_register_hooks`` via ``_add_hook`` and
    check ``is_active`` inside them."""

    _active: ContextVar[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._active = ContextVar(f"attnviz_active_{cls.__name__}", default=None)

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self._handles: list[RemovableHandle] = []
        self._token: Token | None = None

    @property
    def is_active(self) -> bool:
        return type(self)._active.get() is self

    def _register_hooks(self) -> None:
        raise NotImplementedError

    def _add_hook(self, module: nn.Module, hook: Callable, pre: bool = False) -> None:
        handle = module.register_forward_pre_hook(hook) if pre else module.register_forward_hook(hook)
        self._handles.append(handle)

    def __enter__(self):
        try:
            self._register_hooks()
        except BaseException:
            self._remove()
            raise
        self._token = type(self)._active.set(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._remove()

    def _remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if self._token is not None:
            type(self)._active.reset(self._token)
            self._token = None
