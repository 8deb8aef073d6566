"""Sphinx extension: start sphinxcontrib-katex's render server without a startup race.

sphinxcontrib-katex (0.9) starts ``node katex-server.js --socket PATH``, waits until
PATH is a socket, then connects once. Node binds the socket file a moment before it
listens on it, and a connection in that moment is refused: on a loaded machine the
build then fails with ConnectionRefusedError (seen in the docs-site tests). This
replaces the start with one that retries the connection until the same timeout.
"""

import socket
import time
from subprocess import PIPE, Popen

from sphinxcontrib.katex import KaTeXServer


def start_server_process(cls, rundir, timeout):
    socket_path = rundir / "katex.sock"
    process = Popen(cls.build_command(socket=socket_path), stdin=PIPE, stdout=PIPE, cwd=rundir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if socket_path.is_socket():
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(str(socket_path))
                return process, sock
            except ConnectionRefusedError:  # bound, not yet listening: try again
                sock.close()
        time.sleep(0.001)
    raise cls.timeout_error(timeout)


def setup(app):
    KaTeXServer.start_server_process = classmethod(start_server_process)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
