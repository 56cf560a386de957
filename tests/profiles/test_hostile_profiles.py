"""Class profiles a visitor uploads: validated from the header (schema, keys, sizes, every tensor's
shape against the gates and classes) before use; every fault is one clear message naming the
upload, never "Something went wrong (JSONDecodeError / KeyError 'gates')"."""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import pytest
from PIL import Image

from attnviz.errors import AttnvizError
from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss
from attnviz.profiles.profile import MAX_CLASS_NAME_CHARS, MAX_NAME_CHARS, load_profile, profile_from_bytes
from attnviz.profiles.builder import profile_images

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from hostile_inputs import names_profile  # noqa: E402

MiB = 2 ** 20


@pytest.fixture(scope="module")
def good(sk_model, tmp_path_factory) -> bytes:
    images = [Image.new("RGB", (64, 64), (40 * i, 90, 200 - 30 * i)) for i in range(4)]
    profile = profile_images(sk_model, images, [0, 1, 1, 2], ["cat", "dog", "owl"])
    path = tmp_path_factory.mktemp("p") / "good.profile.safetensors"
    profile.save(path)
    return path.read_bytes()


def split(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def joined(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def with_meta(data: bytes, change) -> bytes:
    """The profile with its metadata document changed by ``change(meta)`` (or replaced by the
    string it returns)."""
    header, body = split(data)
    meta = json.loads(header["__metadata__"]["attnviz_profile"])
    out = change(meta)
    header["__metadata__"]["attnviz_profile"] = out if isinstance(out, str) else json.dumps(meta)
    return joined(header, body)


def test_the_good_profile_loads(good, sk_model):
    profile = profile_from_bytes(good, "good.profile.safetensors", sk_model)
    assert list(profile.class_names) == ["cat", "dog", "owl"] and int(profile.count.sum()) == 4


@pytest.mark.parametrize("change, needle", [
    (lambda _m: '{"schema": 2, "model": "x", ', "its metadata is not valid JSON"),
    (lambda m: m.pop("gates"), "its metadata lacks gates"),
    (lambda m: m.pop("class_names"), "its metadata lacks class_names"),
    (lambda m: m.update(schema=99), "has profile schema 99"),
    (lambda m: m.update(gates="all"), "it must describe 1 to"),
    (lambda m: m["gates"][0].pop("channels"), "a gate lacks its name, kind, channels or paths"),
    (lambda m: m["gates"][0].update(kind="<script>"), "has an unknown kind"),
    (lambda m: m["gates"][0].update(channels=-3), "channels and 1 to"),
    (lambda m: m["gates"][1].update(name=m["gates"][0]["name"]), "two gates have the same name"),
    (lambda m: m.update(scales=[]), "scales, each a number above 0"),
    (lambda m: m.update(class_names=[1, 2, 3]), "class name 0 is not text"),
    (lambda m: m.update(class_names=["a", "b"]), "is missing or has the wrong shape"),   # count is (1, 3)
    (lambda m: m["gates"][0].update(channels=m["gates"][0]["channels"] + 1), "is missing or has the wrong shape"),
    (lambda m: m.update(model="m" * (MAX_NAME_CHARS + 1)), "the model name has 257 characters"),
    (lambda m: m.update(samples={"0": ["a.jpg", 7]}), "its sample '0' is not [image, class index]"),
    (lambda m: m.update(extra=[]), "its extra has the wrong type"),
])
def test_a_malformed_profile_is_one_clear_message_naming_the_upload(good, sk_model, change, needle):
    data = with_meta(good, change)
    with pytest.raises(AttnvizError) as info:
        profile_from_bytes(data, "mine.profile.safetensors", sk_model)
    assert str(info.value).startswith("mine.profile.safetensors ") and needle in str(info.value)


def test_a_tensor_of_the_wrong_shape_is_named(good, sk_model):
    header, body = split(good)
    header["count"]["shape"] = [3, 1]  # same bytes, other shape
    with pytest.raises(AttnvizError, match="its tensor count is missing or has the wrong shape"):
        profile_from_bytes(joined(header, body), "p.safetensors", sk_model)
    header, body = split(good)
    del header[next(k for k in header if k.startswith("hist/"))]
    with pytest.raises(AttnvizError, match="its tensor hist/.* is missing"):
        profile_from_bytes(joined(header, body), "p.safetensors", sk_model)


def test_too_many_characters_of_class_names_in_all(good, sk_model):
    def many(meta):
        meta["class_names"] = ["n" * MAX_NAME_CHARS] * (MAX_CLASS_NAME_CHARS // MAX_NAME_CHARS + 1)
    with pytest.raises(AttnvizError, match="class names have 4,000,256 characters in all"):
        profile_from_bytes(with_meta(good, many), "p.safetensors", sk_model)


def test_a_profile_file_on_disk_gets_the_same_checks(good, tmp_path):
    path = tmp_path / "bad.profile.safetensors"
    path.write_bytes(with_meta(good, lambda m: m.pop("scales")))
    with pytest.raises(AttnvizError, match=f"{path} is not a valid attnviz profile: its metadata lacks scales"):
        load_profile(path)


@pytest.mark.parametrize("classes, budget_mib", [(1000, 16), (400, 96)])
def test_the_issues_upload_of_30_mb_of_class_names_is_refused_cheaply(sk_model, classes, budget_mib):
    """1000 names of 15,000 characters (stored twice: 30 MB, a 32 MB upload) are refused from the
    header's declared size, unparsed; 400 of them (12 MB, under the header bound) by a name's length."""
    data = names_profile(sk_model, classes)
    assert len(data) > classes * 30_000
    if not reset_peak_rss():
        pytest.skip("needs Linux /proc/self/clear_refs to measure the peak")
    base = rss()
    with pytest.raises(AttnvizError) as info:
        profile_from_bytes(data, "names.profile.safetensors", sk_model)
    rise = peak_rss() - base
    assert str(info.value).startswith("names.profile.safetensors is not")
    assert ("over the limit of 16,777,216" if classes == 1000 else "class name 0 has 15,000 characters") in str(info.value)
    assert rise < budget_mib * MiB, f"refusing it cost {rise / MiB:.0f} MiB"


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    from bundled_kit import write_bundled

    folder = tmp_path_factory.mktemp("assets")
    write_bundled(folder, "se_resnet18_half", "test_se", default=True)
    return folder


def test_the_app_names_a_malformed_upload_and_never_says_something_went_wrong(assets, good, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from attnviz.figures.literal import unescape_markdown

    monkeypatch.setenv("ATTNVIZ_ASSETS", str(assets))
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(assets / "no-samples"))
    root = Path(__file__).resolve().parents[2]
    at = AppTest.from_file(str(root / "app.py"), default_timeout=180).run()
    at.switch_page("attnviz/app/pages/compare.py").run()
    for data, needle in [(with_meta(good, lambda _m: "{not json"), "its metadata is not valid JSON"),
                         (with_meta(good, lambda m: m.pop("gates")), "its metadata lacks gates")]:
        at.file_uploader(key="profile_upload").set_value(("mine.safetensors", data, "application/octet-stream")).run()
        assert not at.exception, [e.value for e in at.exception]
        errors = "\n".join(unescape_markdown(str(e.value)) for e in at.error)
        assert "Something went wrong" not in errors and "Traceback" not in errors
        assert f"mine.safetensors is not a valid attnviz profile: {needle}" in errors, errors
