"""Downloads: an overall deadline (a server that trickles bytes), stale temporary files of killed
transfers removed, and files that follow the umask. All against a server on 127.0.0.1."""

import hashlib
import http.server
import os
import stat
import subprocess
import sys
import threading
import time

import pytest

from minitorch_cv.data import DownloadError
from minitorch_cv.data import download as dl

PAYLOAD = bytes(range(256)) * 64


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        if self.path == "/trickle":  # one byte every 50 ms: each read returns well in time
            for byte in PAYLOAD:
                if self.server.stop.is_set():
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
        else:
            self.wfile.write(PAYLOAD)


@pytest.fixture
def server(monkeypatch):
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.stop = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_a_trickling_server_is_given_up_at_the_deadline(server, tmp_path):
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"trickle: still transferring when the deadline "
                                            r"of 1.0 s passed.*\n.*fast: not tried"):
        dl.download_file([f"{server}/trickle", f"{server}/fast"], tmp_path / "f.bin", md5,
                         timeout=5, quiet=True, deadline=1.0)
    # the transfer alone would take 16384 * 50 ms = 14 minutes; no read ever timed out
    assert time.monotonic() - started < 60
    assert list(tmp_path.iterdir()) == []
    dl.download_file([f"{server}/fast"], tmp_path / "f.bin", md5, quiet=True, deadline=30)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_stale_temporary_files_of_the_same_target_are_removed(server, tmp_path):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead = tmp_path / f".f.bin.{child.stdout.strip()}.0123abcd.part"  # its process has ended
    alive = tmp_path / f".f.bin.{os.getppid()}.0123abcd.part"  # a transfer still running
    old = tmp_path / f".f.bin.{os.getppid()}.4567abcd.part"  # alive pid, but two days old
    other = tmp_path / f".g.bin.{child.stdout.strip()}.0123abcd.part"  # another target's
    for path in (dead, alive, old, other):
        path.write_bytes(b"half a download")
    os.utime(old, (time.time() - 2 * 86400,) * 2)
    dl.download_file([f"{server}/fast"], tmp_path / "f.bin", hashlib.md5(PAYLOAD).hexdigest(),
                     quiet=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["f.bin", alive.name, other.name])


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_downloaded_files_follow_the_umask(server, tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = dl.download_file([f"{server}/fast"], tmp_path / "f.bin",
                                hashlib.md5(PAYLOAD).hexdigest(), quiet=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode
