"""Uploads checked by the server, not the browser: per-file size, number and total per session, each
upload read once; a refused file's bytes released at once and a closed session's memory given back.

The unit tests use Streamlit's own UploadedFile (built from an UploadedFileRec, as the runtime
builds it); the last test drives ``streamlit run app.py`` with the scripted client of
``streamlit_client.py`` (the websocket and the upload endpoint, none of the browser's checks)."""
from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

import plotly.graph_objects as go
import pytest
from PIL import Image
from streamlit.proto.Common_pb2 import FileURLs
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

from attnviz.figures.style import use_template
from attnviz.serving import ServerLimits
from attnviz.serving.uploads import admit

ROOT = Path(__file__).resolve().parents[2]
MiB = 2**20


class CountingUpload(UploadedFile):
    """Streamlit's UploadedFile, counting how often its bytes are read."""

    reads = 0

    def getvalue(self) -> bytes:
        type(self).reads += 1
        return super().getvalue()


def upload(file_id: str, name: str, data: bytes) -> CountingUpload:
    return CountingUpload(UploadedFileRec(file_id, name, "image/jpeg", data), FileURLs())


@pytest.fixture(autouse=True)
def _reset_reads():
    CountingUpload.reads = 0


def test_a_file_over_the_per_image_size_is_refused_by_name_before_it_is_read():
    limits = ServerLimits(image_mb=1)
    files = [upload("a", "small.jpg", b"x" * 1000), upload("b", "big.jpg", b"y" * (MiB + 1))]
    kept: dict = {}
    out = admit(files, limits, kept)
    assert [i.name for i in out.admitted] == ["small.jpg"]
    [(name, reason)] = out.refused
    assert name == "big.jpg" and "over the limit of 1 MB per image" in reason and "1.0 MB" in reason
    assert out.refused_ids == ["b"] and set(kept) == {"a"}
    assert CountingUpload.reads == 1  # only the admitted file was read


def test_the_number_and_the_total_of_a_session_are_capped_in_order():
    limits = ServerLimits(images_per_session=2, upload_mb_per_session=1)
    files = [upload(str(i), f"f{i}.jpg", bytes([i]) * 400_000) for i in range(4)]
    out = admit(files, limits, {})
    assert [i.name for i in out.admitted] == ["f0.jpg", "f1.jpg"]  # 800 000 bytes, under 1 MiB
    reasons = dict(out.refused)
    assert "at most 2 images" in reasons["f2.jpg"] and "at most 2 images" in reasons["f3.jpg"]
    out = admit(files, ServerLimits(images_per_session=9, upload_mb_per_session=1), {})
    assert [i.name for i in out.admitted] == ["f0.jpg", "f1.jpg"]  # a third would pass 1 MiB
    assert "may add up to at most 1 MB" in dict(out.refused)["f2.jpg"]


def test_an_upload_is_read_and_hashed_once_per_session_and_forgotten_when_removed():
    import hashlib

    data = b"photo bytes" * 1000
    kept: dict = {}
    first = admit([upload("a", "p.jpg", data)], ServerLimits(), kept).admitted[0]
    assert first.digest == hashlib.sha256(data).hexdigest()
    again = admit([upload("a", "p.jpg", data)], ServerLimits(), kept).admitted[0]
    assert again is first and "digest" in again.__dict__  # the same input: not read nor hashed again
    assert CountingUpload.reads == 1
    admit([], ServerLimits(), kept)
    assert kept == {}  # an upload the visitor removed is not held by the session


def test_the_template_given_without_validation_is_plotlys_own():
    expected = go.Figure(go.Bar(y=[1, 3, 2])).update_layout(template="plotly_white", title="t")
    fig = use_template(go.Figure(go.Bar(y=[1, 3, 2])), "plotly_white").update_layout(title="t")
    assert fig.to_plotly_json() == expected.to_plotly_json()
    assert fig.layout.template.layout.plot_bgcolor == "white"


# ---------------------------------------------------------------- against `streamlit run`


def _png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buf, "PNG")
    return buf.getvalue()


def _rss(pid: int) -> int:
    from attnviz.runtime.memory import rss

    return rss(pid)


def settled(pid: int, before: int, bound: int, deadline_s: float = 120) -> int:
    """The server's resident size above ``before``, once it is at most ``bound`` or the deadline has
    passed (a condition polled with a deadline: nothing is ordered by it)."""
    deadline = time.monotonic() + deadline_s
    while (above := _rss(pid) - before) > bound and time.monotonic() < deadline:
        time.sleep(0.5)
    return above


@pytest.mark.slow
def test_a_scripted_visitor_over_the_limits_is_refused_by_the_server_and_the_refused_bytes_let_go(tmp_path):
    pytest.importorskip("websockets")
    from streamlit_client import Visitor, start_app

    if _rss(os.getpid()) is None:
        pytest.skip("needs Linux /proc to measure memory")
    env = {"ATTNVIZ_MAX_IMAGES": "3", "ATTNVIZ_SESSION_GRACE_S": "0", "OMP_NUM_THREADS": "1",
           "ATTNVIZ_SAMPLES": str(tmp_path / "none")}
    proc, base = start_app(str(ROOT / "app.py"), env, str(tmp_path / "server.log"))
    try:
        async def visit():
            visitor = await Visitor.open(base, page="explore")
            await visitor.run_finished()
            before = _rss(proc.pid)
            # 3 files of 30 MB (over 25 MB an image, under Streamlit's own 64 MB) and 4 small PNGs.
            big = [(f"big{i}.jpg", os.urandom(30 * MiB)) for i in range(3)]
            small = [(f"c{i}.png", _png((60 * i, 90, 160))) for i in range(4)]
            statuses = await visitor.upload("uploads", big + small)
            assert statuses == [204] * 7  # Streamlit's endpoint takes them all: the check is ours
            run = await visitor.run_finished()
            await visitor.rerun()  # the refusals stay on the page after the bytes are gone
            again = await visitor.run_finished()
            # Streamlit keeps the widget values of the run before: the bytes go once two runs have
            # passed without them (measured: +93 MiB held until then, +3 after).
            await visitor.rerun()
            await visitor.run_finished()
            held = settled(proc.pid, before, 60 * MiB)
            await visitor.close()
            return before, held, run, again

        before, held, run, again = asyncio.run(visit())
        texts = run.texts().replace("\\", "")  # names are shown as text: Markdown escapes dropped here
        for i in range(3):
            assert f"**big{i}.jpg** was skipped: is 30.0 MB, over the limit of 25 MB per image" in texts
        assert "**c3.png** was skipped: not analysed: a session may analyse at most 3 images at once" in texts
        assert {f"Top-5: c{i}.png" for i in range(3)} <= set(run.chart_titles())
        assert "big0.jpg" in again.texts().replace("\\", "") and "Top-5: c0.png" in again.chart_titles()
        assert held < 60 * MiB, f"the refused 90 MB are still held: +{held / MiB:.0f} MiB"
    finally:
        proc.terminate()
        proc.wait(30)
