"""Files replaced whole: errors and kills never leave a torn file or a stray temporary one."""

import fcntl
import os
import signal
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
               temporary(tmp_path, dead_pid(), "empty-dead", b""),   # killed before it locked
               temporary(tmp_path, me, "old", b"")]                  # older than an hour
    an_hour_ago = time.time() - atomic.STALE_AFTER - 1
    os.utime(orphans[-1], (an_hour_ago, an_hour_ago))
    kept = [temporary(tmp_path, me, "empty-live", b""),              # created, not locked yet
            temporary(tmp_path, me, "locked")]                       # being written
    unrelated = tmp_path / ".mllib-notes.txt"
    unrelated.write_text("mine")
    with open(kept[-1], "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        removed = remove_orphans(tmp_path)
    assert sorted(removed) == sorted(p.name for p in orphans)
    assert temporaries(tmp_path) == sorted(p.name for p in kept)
    assert unrelated.read_text() == "mine"


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
