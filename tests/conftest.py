"""Shared fixtures. Data comes from ../shared/data (read-only, never copied into the project)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from shared_data import NETTE, SAMPLES

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not available")
    return path


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return need(SAMPLES)


@pytest.fixture(scope="session")
def nette_dir() -> Path:
    return need(NETTE)


@pytest.fixture(scope="session")
def goldfish(samples_dir) -> Path:
    return samples_dir / "n01443537_goldfish.JPEG"


@pytest.fixture(scope="module")
def sk_model():
    """A tiny SK network (random weights, 64 px), for tests of what is computed around a model."""
    from tiny import tiny

    return tiny("sk_resnet18_half", size=64)


@pytest.fixture(scope="module")
def photos(samples_dir):
    """Two sample photos decoded as the app decodes uploads (tench, goldfish)."""
    from attnviz.serving.inputs import decode, read_files

    files = [samples_dir / "n01440764_tench.JPEG", samples_dir / "n01443537_goldfish.JPEG"]
    return [decode(item) for item in read_files(files)]


# ---------------------------------------------------------------- markers: the inner loop
# `python -m pytest -m "not slow and not browser"` is the inner loop (README); plain `python -m
# pytest` still runs everything. Besides the markers that modules set themselves, every test of
# the browser modules is `browser`, every test that drives the whole app through Streamlit's
# AppTest (tests/test_app*.py) is `slow`, and so are the tests below, each measured at over about
# 2.5 s on the shared 2-core machine (trainings, full-size timm models, subprocesses, the shipped
# models over real data). A name without brackets marks every parameter of that test.

SLOW_MODULE_PREFIXES = ("test_app",)
SLOW_TESTS = {
    "test_bundled_models.py::test_accuracy_on_a_fixed_val_subset_matches_the_card",
    "test_packaging.py::test_the_core_imports_neither_streamlit_nor_plotly",
    "test_bundle.py::test_the_card_measures_class_dependence_on_the_compared_path",
    "test_bundle.py::test_package_a_tiny_sk_run",
    "test_train.py::test_train_writes_fp16_weights_and_card_data",
    "test_train.py::test_resume_continues_exactly_where_it_stopped",
    *(f"test_capture.py::test_captured_values_reproduce_the_attention_output[{name}]"
      for name in ("legacy_senet154", "seresnet50", "seresnext50_32x4d", "skresnext50_32x4d", "resnest50d",
                   "skresnet34", "ecaresnet50d", "legacy_seresnet50")),
    "test_capture.py::test_values_stay_on_the_device_and_batches_concatenate",
    "test_capture.py::test_concurrent_captures_on_one_shared_model_are_isolated",
    "test_capture.py::test_neutralised_gate_passes_features_through_and_still_reports_its_value",
    "test_cli_channel.py::test_channel_lists_the_top_and_bottom_images",
    "test_cli.py::test_offline_pretrained_failure_has_no_traceback",
    "test_cli.py::test_models_json",
    "test_cli.py::test_fetch_imagenette_offline_names_the_address_and_what_to_do",
    "test_dependencies.py::test_requirements_declare_every_imported_module",
    "test_dependencies.py::test_pyproject_declares_what_the_package_imports",
    "test_openset.py::test_an_upload_gets_the_note_exactly_when_its_confidence_is_under_the_threshold",
    "test_openset.py::test_the_shipped_calibrations_separate_known_from_unknown",
    "test_cli_hostile_images.py::test_inspect_in_a_shell_prints_refused_lines_and_no_traceback",
    "test_hostile_profiles.py::test_the_app_names_a_malformed_upload_and_never_says_something_went_wrong",
    "test_hostile_names.py::test_uploaded_names_show_as_literal_text_in_the_app",
    "test_report_language.py::test_the_report_is_in_the_language_it_was_asked_in",
    "test_attribution.py::test_channel_attribution_is_gradient_times_activation",
    "test_attribution.py::test_gradcam_matches_the_formula",
    "test_attribution.py::test_attribution_and_analysis_in_threads_do_not_disturb_each_other",
    "test_attribution.py::test_gradcam_changes_with_the_target_and_leaves_the_model_as_found",
}


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ARG001  pytest hook signature
    for item in items:
        module = item.path.name
        if module.startswith("test_browser"):
            item.add_marker(pytest.mark.browser)
        if (module.startswith(SLOW_MODULE_PREFIXES) or f"{module}::{item.name}" in SLOW_TESTS
                or f"{module}::{getattr(item, 'originalname', item.name)}" in SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
