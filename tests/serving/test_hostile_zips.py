"""Zips of class folders: names normalised once, duplicates refused by name, the number of entries
and the size of the central directory checked from the end record before zipfile reads it."""
from __future__ import annotations

import io
import stat
import struct
import zipfile

import pytest
from PIL import Image

from attnviz.errors import AttnvizError
from attnviz.runtime.memory import peak_rss, reset_peak_rss, rss
from attnviz.serving import ServerLimits, read_zip_classes
from attnviz.serving.archive import directory_size, entry_name
from attnviz.serving.classfolders import from_zip
from hostile import many_entries_zip

LIMITS = ServerLimits()
MiB = 2 ** 20


def jpeg(colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buf, "JPEG")
    return buf.getvalue()


def raw_zip(names: list[str], data: bytes = b"", link: str | None = None) -> bytes:
    """A zip whose entries have exactly these names (zipfile.writestr keeps them as given)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name in names:
            zf.writestr(zipfile.ZipInfo(name), data or jpeg())
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


@pytest.mark.parametrize("raw, normal", [("cls1//img9.jpg", "cls1/img9.jpg"), ("./cls1/./img9.jpg", "cls1/img9.jpg"),
                                         ("cls1\\img9.jpg", "cls1/img9.jpg"), ("top/cls1/img9.jpg", "top/cls1/img9.jpg"),
                                         ("../x/a.jpg", None), ("/etc/a.jpg", None), ("C:/a/b.jpg", None),
                                         ("a/../../b.jpg", None)])
def test_entry_names_are_normalised_once(raw, normal):
    assert entry_name(raw) == normal


def test_a_double_slash_entry_is_read_with_the_rest_of_the_profile():
    # Before: cls1//img9.jpg was listed as cls1/img9.jpg and read by that name: KeyError, the whole profile failed.
    data = raw_zip(["cls1//img9.jpg", "cls1/img1.jpg", ".\\cls2\\img2.jpg", "cls2/./img3.jpg"])
    folders = from_zip(data, "classes.zip", LIMITS, per_class=10)
    assert folders.data.class_names == ["cls1", "cls2"] and len(folders) == 4
    for sample, _k in folders.data.samples:
        image = folders.loader(sample, str(sample))
        assert image.size == (16, 16)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_two_entries_with_one_name_after_normalising_are_refused_by_name():
    with pytest.raises(AttnvizError, match="d.zip holds two entries named cls1/a.jpg"):
        read_zip_classes(raw_zip(["cls1/a.jpg", "cls1//a.jpg"]), "d.zip", LIMITS, per_class=5)
    with pytest.raises(AttnvizError, match="holds two entries named cls1/a.jpg"):
        read_zip_classes(raw_zip(["cls1/a.jpg", "cls1/a.jpg"]), "d.zip", LIMITS, per_class=5)


def test_links_absolute_and_climbing_entries_are_left_out_and_listed():
    data = raw_zip(["cats/a.jpg", "../cats/b.jpg", "/cats/c.jpg"], link="cats/link.jpg")
    folder = read_zip_classes(data, "l.zip", LIMITS, per_class=10)
    assert [e for e, _k in folder.entries] == ["cats/a.jpg"]
    assert {s["file"] for s in folder.skipped} == {"../cats/b.jpg", "/cats/c.jpg", "cats/link.jpg"}


def test_the_end_record_gives_the_directory_size_zip64_included():
    small = raw_zip(["a/1.jpg", "a/2.jpg"])
    assert directory_size(small)[0] == 2
    large = many_entries_zip(70_000)   # over 65,535 entries: zipfile writes the zip64 end record
    entries, size = directory_size(large)
    assert entries == 70_000 and size == sum(46 + len(i.filename) for i in zipfile.ZipFile(io.BytesIO(large)).infolist())
    assert directory_size(b"not a zip") is None


def test_a_directory_of_many_entries_is_refused_before_it_is_read(monkeypatch):
    data = many_entries_zip(200_000)   # 10 MB of directory: zipfile would build 200,000 ZipInfo objects first
    built = []
    real = zipfile.ZipFile
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: built.append(1) or real(*a, **k))
    if not reset_peak_rss():
        pytest.skip("needs Linux /proc/self/clear_refs to measure the peak")
    base = rss()
    with pytest.raises(AttnvizError, match="m.zip holds 200,000 entries, over the limit of 5,000"):
        read_zip_classes(data, "m.zip", LIMITS, per_class=10)
    assert peak_rss() - base < 4 * MiB
    assert not built   # refused from the end record, zipfile never read the directory


def test_an_end_record_that_understates_its_entries_is_refused_by_the_directory_size(monkeypatch):
    data = bytearray(many_entries_zip(60_000))                    # 3.2 MB of directory (5,000 entries: 2.5 MB allowed)
    at = data.rfind(b"PK\x05\x06")
    data[at + 8:at + 12] = struct.pack("<HH", 3, 3)   # claims 3 entries
    built = []
    real = zipfile.ZipFile
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: built.append(1) or real(*a, **k))
    with pytest.raises(AttnvizError, match="over the limit of 5,000"):
        read_zip_classes(bytes(data), "lie.zip", LIMITS, per_class=10)
    assert not built
