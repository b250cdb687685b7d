"""Files replaced whole: errors and kills never leave a torn file or a stray temporary one."""

import fcntl
import os
import signal
import threading
import time

import numpy as np
import pytest

import mllib
from mllib.io import atomic
from mllib.io.atomic import remove_orphans, write_atomically


def temporaries(folder):
    return sorted(n for n in os.listdir(folder) if n.startswith(".mllib-") and n.endswith(".tmp"))


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    for error in (OSError("disk full"), KeyboardInterrupt()):
        def write(handle, error=error):
            handle.write(b"half of the new")
            raise error
        with pytest.raises(type(error)):
            write_atomically(target, write)
        assert target.read_bytes() == b"old"
        assert temporaries(tmp_path) == []


def test_the_temporary_file_is_in_the_target_folder_and_named_after_its_writer(tmp_path):
    seen = []
    write_atomically(tmp_path / "f.bin", lambda handle: seen.append(temporaries(tmp_path)))
    (name,) = seen[0]
    assert name.startswith(f".mllib-{os.getpid()}-")
    assert temporaries(tmp_path) == []


def temporary(folder, pid, tag, content=b"x"):
    """A temporary file as write_atomically names it: ``tag`` stands for mkstemp's 8
    random characters."""
    assert len(tag) == 8
    path = folder / f".mllib-{pid}-{tag}.tmp"
    path.write_bytes(content)
    return path


def dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_orphans_go_and_files_of_live_writers_stay(tmp_path):
    me = os.getpid()
    orphans = [temporary(tmp_path, me, "unlocked"),                  # a killed writer's bytes
               temporary(tmp_path, dead_pid(), "emptdead", b""),     # killed before it locked
               temporary(tmp_path, me, "old_____", b"")]             # older than an hour
    an_hour_ago = time.time() - atomic.STALE_AFTER - 1
    os.utime(orphans[-1], (an_hour_ago, an_hour_ago))
    kept = [temporary(tmp_path, me, "emptlive", b""),                # created, not locked yet
            temporary(tmp_path, me, "locked__")]                     # being written
    unrelated = tmp_path / ".mllib-notes.txt"
    unrelated.write_text("mine")
    with open(kept[-1], "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        removed = remove_orphans(tmp_path)
    assert sorted(removed) == sorted(p.name for p in orphans)
    assert temporaries(tmp_path) == sorted(p.name for p in kept)
    assert unrelated.read_text() == "mine"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_the_clean_up_opens_only_regular_files_of_the_exact_temporary_name(tmp_path):
    an_hour_ago = time.time() - atomic.STALE_AFTER - 1
    fifos = [tmp_path / ".mllib-x.tmp", tmp_path / f".mllib-{dead_pid()}-abcdefgh.tmp"]
    for fifo in fifos:
        os.mkfifo(fifo)
        os.utime(fifo, (an_hour_ago, an_hour_ago))   # as old as an orphan: still not touched
    target = tmp_path / "elsewhere.bin"
    target.write_bytes(b"not mllib's")
    link = tmp_path / ".mllib-1-abcdefgh.tmp"
    link.symlink_to(target)
    odd = [temporary(tmp_path, os.getpid(), "unlocked").rename(tmp_path / name)
           for name in (".mllib-1-toolongname.tmp",)]
    outcome = {}
    saver = threading.Thread(target=lambda: outcome.update(
        removed=remove_orphans(tmp_path), saved=write_atomically(tmp_path / "m.bin",
                                                                 lambda h: h.write(b"new"))),
        daemon=True)
    saver.start()
    saver.join(timeout=20)
    assert not saver.is_alive(), "a FIFO named like a temporary file hung the save"
    assert outcome["removed"] == [] and (tmp_path / "m.bin").read_bytes() == b"new"
    assert all(os.path.lexists(p) for p in (*fifos, link, *odd))
    assert target.read_bytes() == b"not mllib's"


def small_model(seed):
    net = mllib.NeuralNetwork(nodes=[60, 200, 200, 1], activators=["relu", "relu", "sigmoid"],
                              seed=seed)
    return net, net.get_weights()["W1"]


def keep_saving(path, models):
    """The child's work: save the two models in turn until killed."""
    try:
        while True:
            for net in models:
                net.save(path)
    finally:
        os._exit(0)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_a_writer_killed_at_random_points_never_leaves_a_torn_file(tmp_path):
    (a, w_a), (b, w_b) = small_model(1), small_model(2)
    path = tmp_path / "model.npz"
    a.save(path)
    rng = np.random.default_rng(0)
    kills, leftovers = 60, 0
    for delay in rng.uniform(0.0, 0.03, size=kills):
        pid = os.fork()
        if pid == 0:
            keep_saving(path, (b, a))
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        w = mllib.load(path).get_weights()["W1"]
        assert np.array_equal(w, w_a) or np.array_equal(w, w_b)
        leftovers += len(temporaries(tmp_path))
        a.save(path)
        assert temporaries(tmp_path) == []
    assert leftovers > 0, "no kill landed during a save; the test proved nothing"
