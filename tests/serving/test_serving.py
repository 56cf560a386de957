"""The served app's guards, without Streamlit: the data root, zip uploads, shared and queued jobs,
and the limits read from the environment."""
from __future__ import annotations

import io
import threading
import time
import zipfile

import pytest
from PIL import Image

from attnviz.errors import AttnvizError, ImageLoadError
from attnviz.serving import DataRoot, JobQueue, ServerLimits, SharedResults, read_zip_classes, server_limits


def _jpeg(colour=(200, 30, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, "JPEG")
    return buf.getvalue()


# ---------------------------------------------------------------- data root


@pytest.fixture
def tree(tmp_path):
    """root/data/{cats,dogs}/*.jpg, root/weights/w.safetensors, and links that lead outside."""
    outside = tmp_path / "outside"
    (outside / "secret").mkdir(parents=True)
    (outside / "secret" / "x.jpg").write_bytes(_jpeg())
    (outside / "passwd.jpg").write_bytes(_jpeg())
    root = tmp_path / "root"
    for cls in ("cats", "dogs"):
        (root / "data" / cls).mkdir(parents=True)
        for i in range(3):
            (root / "data" / cls / f"{i}.jpg").write_bytes(_jpeg())
    (root / "data" / "dogs" / "link.jpg").symlink_to(outside / "passwd.jpg")
    (root / "data" / "escape").symlink_to(outside / "secret")
    (root / "weights").mkdir()
    (root / "weights" / "w.safetensors").write_bytes(b"0")
    (root / "weights" / "leak.pth").symlink_to(outside / "passwd.jpg")
    (root / "outer").symlink_to(outside)
    return root


def test_data_root_offers_its_own_folders_and_files_only(tree):
    root = DataRoot(tree)
    assert root.class_folders() == ["data"]
    assert root.weights_files() == ["weights/w.safetensors"]


@pytest.mark.parametrize("path", ["..", "../outside", "/etc", "outer", "outer/secret", "data/escape"])
def test_paths_outside_the_root_are_refused(tree, path):
    with pytest.raises(AttnvizError, match="outside the data root"):
        DataRoot(tree).resolve(path)


def test_class_samples_leave_out_links_that_lead_outside(tree):
    samples, classes, refused = DataRoot(tree).image_samples("data", per_class=10)
    assert classes == ["cats", "dogs"]
    assert len(samples) == 6
    assert all(str(p.resolve()).startswith(str(tree.resolve())) for p, _ in samples)
    assert any("link.jpg" in r for r in refused) and any("escape" in r for r in refused)
    # the traversal stops reading a class folder at the limit; what it keeps is the one home's
    # choice (images.sampling.first_per_class) from every sample
    from attnviz.images.sampling import first_per_class

    for limit in (1, 2, 3, 10):
        few, _, _ = DataRoot(tree).image_samples("data", per_class=limit)
        assert few == first_per_class(samples, limit)
    assert len(DataRoot(tree).image_samples("data", per_class=2)[0]) == 4


def test_a_missing_data_root_is_a_clear_error(tmp_path):
    with pytest.raises(AttnvizError, match="ATTNVIZ_DATA_ROOT"):
        DataRoot(tmp_path / "nowhere")


# ---------------------------------------------------------------- zip uploads


def _zip(entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


LIMITS = ServerLimits()


def test_zip_of_class_folders_with_or_without_a_top_folder():
    for prefix in ("", "mydata/"):
        data = _zip({f"{prefix}cats/a.jpg": _jpeg(), f"{prefix}cats/b.jpg": _jpeg(),
                     f"{prefix}dogs/c.jpg": _jpeg(), "__MACOSX/._x": b"", f"{prefix}notes.txt": b"hi"})
        folder = read_zip_classes(data, "classes.zip", LIMITS, per_class=10)
        assert folder.classes == ["cats", "dogs"]
        assert [k for _, k in folder.entries] == [0, 0, 1]
        assert folder.read(folder.entries[0][0])[:2] == b"\xff\xd8"
        assert any("notes.txt" in s["file"] for s in folder.skipped)


def test_zip_caps_entries_per_class_and_in_all():
    data = _zip({f"cats/{i}.jpg": _jpeg() for i in range(30)})
    assert len(read_zip_classes(data, "c.zip", LIMITS, per_class=5).entries) == 5
    with pytest.raises(AttnvizError, match="c.zip holds 30 entries, over the limit of 10"):
        read_zip_classes(data, "c.zip", ServerLimits(zip_entries=10), per_class=5)


def test_zip_bombs_and_oversized_entries_are_refused_by_name():
    bomb = _zip({"cats/bomb.png": b"\0" * (50 * 2**20), "cats/ok.jpg": _jpeg()})
    assert len(bomb) < 200_000
    folder = read_zip_classes(bomb, "b.zip", LIMITS, per_class=10)
    with pytest.raises(ImageLoadError, match="cats/bomb.png: .*over the limit of 25 MB per image"):
        folder.read("cats/bomb.png")
    ratio = read_zip_classes(_zip({"cats/r.png": b"\0" * (20 * 2**20)}), "r.zip", LIMITS, per_class=1)
    with pytest.raises(ImageLoadError, match="zip bomb"):
        ratio.read("cats/r.png")
    assert folder.read("cats/ok.jpg")


@pytest.mark.parametrize("data, needle", [(b"not a zip", "not a readable zip"),
                                          (_zip({"a.jpg": _jpeg()}), "no class folders")])
def test_bad_zips_say_what_to_do(data, needle):
    with pytest.raises(AttnvizError, match=needle):
        read_zip_classes(data, "x.zip", LIMITS, per_class=1)


def test_zip_paths_never_touch_the_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = _zip({"../../evil/a.jpg": _jpeg(), "/abs/b.jpg": _jpeg(), "cats/c.jpg": _jpeg()})
    folder = read_zip_classes(data, "x.zip", LIMITS, per_class=10)
    for entry, _ in folder.entries:
        folder.read(entry)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- shared and queued jobs


def until(condition, timeout: float = 30.0) -> None:
    """Wait for ``condition()`` to hold (checked whenever a thread may have moved), or fail. The
    outcome never depends on how long anything takes, only on the order the events allow."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the threads never reached the expected state"
        threading.Event().wait(0.001)


def test_the_same_job_asked_twice_at_once_is_computed_once():
    store = SharedResults()
    calls, release = [], threading.Event()

    def slow():
        calls.append(1)
        release.wait(30)  # held until every other caller waits for this computation
        return "profile"

    results = []
    first = threading.Thread(target=lambda: results.append(store.get("k", slow)))
    first.start()
    until(lambda: store.in_flight("k"))
    others = [threading.Thread(target=lambda: results.append(store.get("k", slow))) for _ in range(3)]
    for t in others:
        t.start()
    until(lambda: store.waiting("k") == 3)
    release.set()
    for t in [first, *others]:
        t.join(30)
    assert results == ["profile"] * 4 and len(calls) == 1 and store.computed == 1
    assert "k" in store and not store.in_flight("k") and store.waiting("k") == 0


def test_a_failed_job_is_not_stored_and_reaches_every_waiter():
    store = SharedResults()
    release = threading.Event()

    def boom():
        release.wait(30)
        raise AttnvizError("no images")

    errors = []

    def ask():
        try:
            store.get("k", boom)
        except AttnvizError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    threads[0].start()
    until(lambda: store.in_flight("k"))
    for t in threads[1:]:
        t.start()
    until(lambda: store.waiting("k") == 2)
    release.set()
    for t in threads:
        t.join(30)
    assert errors == ["no images"] * 3 and "k" not in store
    assert store.get("k", lambda: 1) == 1


def test_store_computes_once_and_forgets_the_least_recently_used():
    store, calls = SharedResults(max_entries=2), []
    for key in ("a", "b", "a", "c", "b"):
        store.get(key, lambda key=key: calls.append(key) or key.upper())
    assert calls == ["a", "b", "c", "b"]  # 'b' was the least recently used when 'c' came
    assert "a" not in store and "c" in store and store.get("b") == "B"
    with pytest.raises(KeyError):
        SharedResults().get("missing")


def test_queue_runs_one_at_a_time_in_order_and_tells_the_waiting_where_they_stand():
    """Arrival order is made by events (each job starts once the one before it runs or waits),
    and each running job is held until the test lets it finish: no sleep orders anything."""
    queue = JobQueue(slots=1)
    order, seen_ahead, running, worst = [], {}, [0], [0]
    lock = threading.Lock()
    inside = [threading.Event() for _ in range(4)]
    waiting = [threading.Event() for _ in range(4)]
    finish = [threading.Event() for _ in range(4)]

    def job(i):
        def on_wait(ahead):
            with lock:
                seen_ahead.setdefault(i, []).append(ahead)
            waiting[i].set()
        with queue.slot(on_wait=on_wait, poll_seconds=0.01):
            with lock:
                running[0] += 1
                worst[0] = max(worst[0], running[0])
                order.append(i)
            inside[i].set()
            finish[i].wait(30)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=job, args=(i,)) for i in range(4)]
    threads[0].start()
    assert inside[0].wait(30)
    for i in range(1, 4):
        threads[i].start()
        assert waiting[i].wait(30)  # job i stands in the queue before job i + 1 arrives
    assert seen_ahead[3][0] == 3  # one running and two waiting ahead of it
    for i in range(4):
        assert inside[i].wait(30)
        assert order == list(range(i + 1)) and running[0] == 1
        finish[i].set()
    for t in threads:
        t.join(30)
    assert order == [0, 1, 2, 3] and worst[0] == 1
    assert max(seen_ahead[3]) == 3 and min(seen_ahead[3]) >= 1
    assert seen_ahead[3] == sorted(seen_ahead[3], reverse=True)  # its place only ever improves


# ---------------------------------------------------------------- limits


def test_limits_come_from_the_environment_with_clear_errors(monkeypatch, tmp_path):
    monkeypatch.delenv("ATTNVIZ_DATA_ROOT", raising=False)
    assert server_limits().data_root is None  # by default no server folder is offered
    monkeypatch.setenv("ATTNVIZ_MAX_IMAGES", "5")
    monkeypatch.setenv("ATTNVIZ_DATA_ROOT", str(tmp_path))
    limits = server_limits()
    assert limits.images_per_session == 5 and limits.data_root == tmp_path.resolve()
    monkeypatch.setenv("ATTNVIZ_MAX_IMAGES", "lots")
    with pytest.raises(AttnvizError, match="ATTNVIZ_MAX_IMAGES='lots' is not a whole number"):
        server_limits()
    monkeypatch.setenv("ATTNVIZ_MAX_IMAGES", "0")
    with pytest.raises(AttnvizError, match="ATTNVIZ_MAX_IMAGES=0 is below 1"):
        server_limits()
