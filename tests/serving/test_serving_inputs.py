"""Images coming into the served app: content keys, bounded decoding, samples, names and caps."""
from __future__ import annotations

from pathlib import Path


from attnviz.serving.inputs import (ImageInput, decode, image_digest, sample_label, samples_folder,
                                    session_caps, unique_names)


def test_digest_is_the_content_not_the_name():
    assert ImageInput("a.jpg", b"xyz").digest == ImageInput("b.png", b"xyz").digest == image_digest(b"xyz")
    assert image_digest(b"xyz") != image_digest(b"xyz ")


def test_decode_keeps_going_with_a_message(goldfish):
    good = decode(ImageInput("fish.jpg", goldfish.read_bytes()))
    bad = decode(ImageInput("notes.txt", b"hello"))
    assert good.ok and good.image.mode == "RGB"
    assert not bad.ok and "text file" in bad.error


def test_samples_folder_env_default_and_absent(tmp_path, monkeypatch, samples_dir):
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(samples_dir))
    assert samples_folder(tmp_path) == samples_dir
    monkeypatch.setenv("ATTNVIZ_SAMPLES", str(tmp_path / "missing"))
    assert samples_folder(tmp_path) is None
    monkeypatch.delenv("ATTNVIZ_SAMPLES")
    app_dir = tmp_path / "project"
    (tmp_path / "shared" / "data" / "imagenet-samples").mkdir(parents=True)
    assert samples_folder(app_dir) is None  # exists but holds no image: hidden
    (tmp_path / "shared" / "data" / "imagenet-samples" / "x.png").write_bytes(b"")
    assert samples_folder(app_dir) == tmp_path / "shared" / "data" / "imagenet-samples"


def test_names():
    assert sample_label(Path("n01440764_tench.JPEG")) == "tench"
    assert sample_label(Path("my_cat.png")) == "my cat"
    assert unique_names(["a", "b", "a", "a"]) == ["a", "b", "a (2)", "a (3)"]


def test_decode_keeps_bounded_copies_only(goldfish):  # noqa: ARG001  fixture: skips without the samples
    """The app keeps the model's view (centre, short side <= 512) and a thumbnail, never the decode."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(buf, "PNG")
    big = decode(ImageInput("big.png", buf.getvalue()))
    assert big.size == (4000, 3000)
    assert big.image.size == (683, 512) and max(big.display.size) == 512
    assert big.nbytes < 3 * 2**20
    strip = Image.new("RGB", (20000, 10), (200, 0, 0))
    buf = io.BytesIO()
    strip.save(buf, "PNG")
    thin = decode(ImageInput("strip.png", buf.getvalue()))
    assert thin.ok and thin.image.size == (20, 10)
    assert thin.display.size == (512, 128)  # letterboxed so that it can be shown


def test_session_caps_name_the_limit():
    items = [ImageInput(f"{i}.jpg", bytes(100)) for i in range(5)]
    kept, refused = session_caps(items, max_images=3, max_bytes=10_000)
    assert [i.name for i in kept] == ["0.jpg", "1.jpg", "2.jpg"]
    assert [r.name for r in refused] == ["3.jpg", "4.jpg"]
    assert "at most 3 images" in refused[0].error
    kept, refused = session_caps(items, max_images=10, max_bytes=250)
    assert len(kept) == 2 and "add up to at most 0.2 KB" in refused[0].error


def test_the_samples_listing_is_read_again_only_when_the_folder_changes(tmp_path, monkeypatch):
    import os

    import attnviz.images.loading as loading
    from attnviz.serving.inputs import folder_images

    from PIL import Image

    for name in ("b.png", "a.jpg"):
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("not a photo")
    listings = []
    real = loading.list_image_files
    monkeypatch.setattr("attnviz.serving.inputs.list_image_files", lambda f: listings.append(f) or real(f))
    assert [p.name for p in folder_images(tmp_path)] == ["a.jpg", "b.png"]
    assert [p.name for p in folder_images(tmp_path)] == ["a.jpg", "b.png"] and len(listings) == 1   # kept
    Image.new("RGB", (4, 4)).save(tmp_path / "c.png")
    stamp = os.stat(tmp_path).st_mtime_ns + 1_000_000   # a coarse clock must not hide the change here
    os.utime(tmp_path, ns=(stamp, stamp))
    assert [p.name for p in folder_images(tmp_path)] == ["a.jpg", "b.png", "c.png"] and len(listings) == 2
    (tmp_path / "a.jpg").unlink()
    os.utime(tmp_path, ns=(stamp + 1_000_000, stamp + 1_000_000))
    assert [p.name for p in folder_images(tmp_path)] == ["b.png", "c.png"]
    assert folder_images(tmp_path / "gone") == ()
