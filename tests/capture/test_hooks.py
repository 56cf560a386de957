"""attnviz.capture.hooks.ScopedHooks on its own: hooks exist only inside the context that opened them,
go away after it (also when the body or the registration raises), and act only for their own
owner in the calling thread."""
from __future__ import annotations

import threading

import pytest
import torch
import torch.nn as nn

from attnviz.capture.hooks import ScopedHooks


class Recorder(ScopedHooks):
    """Records the output of every Linear layer while it is the active owner."""

    def __init__(self, model: nn.Module, fail_after: int | None = None) -> None:
        super().__init__(model)
        self.seen: list[str] = []
        self.fail_after = fail_after

    def _register_hooks(self) -> None:
        for i, (name, module) in enumerate(m for m in self.model.named_modules() if isinstance(m[1], nn.Linear)):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError("registration failed")
            self._add_hook(module, self._hook(name))

    def _hook(self, name: str):
        def hook(_module, _inputs, _output):
            if self.is_active:
                self.seen.append(name)
        return hook


class Other(Recorder):
    """A second kind of owner: its own ContextVar."""


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))


def _hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_hooks_exist_only_inside_the_context():
    model = _model()
    owner = Recorder(model)
    assert _hook_count(model) == 0 and not owner.is_active
    with owner as entered:
        assert entered is owner and owner.is_active
        assert _hook_count(model) == 2
        model(torch.zeros(1, 4))
    assert owner.seen == ["0", "2"]
    assert _hook_count(model) == 0 and not owner.is_active
    model(torch.zeros(1, 4))                                    # nothing left to record it
    assert owner.seen == ["0", "2"]


def test_hooks_are_removed_when_the_body_raises():
    model = _model()
    owner = Recorder(model)
    with pytest.raises(ValueError, match="in the body"), owner:
        model(torch.zeros(1, 4))
        raise ValueError("in the body")
    assert _hook_count(model) == 0 and not owner.is_active
    with pytest.raises(RuntimeError), Recorder(model):
        model(torch.zeros(1, 5))                            # wrong width: the forward itself fails
    assert _hook_count(model) == 0


def test_hooks_added_before_a_failed_registration_are_removed():
    model = _model()
    owner = Recorder(model, fail_after=1)                      # the first Linear is hooked, then it fails
    with pytest.raises(RuntimeError, match="registration failed"), owner:
        pytest.fail("the body must not run")
    assert _hook_count(model) == 0 and not owner.is_active and owner._handles == []


def test_nested_owners_restore_the_outer_one():
    model = _model()
    outer, inner, other = Recorder(model), Recorder(model), Other(model)
    with outer:
        with inner:
            assert inner.is_active and not outer.is_active
            with other:                                         # another class: both active at once
                assert other.is_active and inner.is_active
                model(torch.zeros(1, 4))
        assert outer.is_active and not inner.is_active
        model(torch.zeros(1, 4))
    assert inner.seen == ["0", "2"] and other.seen == ["0", "2"] and outer.seen == ["0", "2"]
    assert _hook_count(model) == 0


def test_a_forward_in_another_thread_is_not_recorded():
    """One shared model, two threads: the owner in thread A ignores thread B's forward, which
    runs while A's context is open (synchronised on events, no sleeping)."""
    model = _model()
    owner = Recorder(model)
    opened, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_thread():
        try:
            assert opened.wait(30)
            assert not owner.is_active                          # the ContextVar is per thread
            model(torch.zeros(1, 4))
        except BaseException as exc:                            # surfaced in the main thread
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with owner:
        opened.set()
        assert done.wait(30)
        assert owner.seen == []                                 # B's forward passed A's hooks untouched
        model(torch.zeros(1, 4))
    worker.join(30)
    assert not errors, errors
    assert owner.seen == ["0", "2"] and _hook_count(model) == 0
