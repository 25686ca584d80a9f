"""The real task_server binary run by a Python test (an sh_test run by Bazel
from the runfiles root): started on a free loopback port, its output kept in
the test's undeclared outputs, stopped with SIGTERM.

    server = ServerProcess(binary, f"--listen={address}", f"--db={path}")
    try:
        ...
    finally:
        failures += server.stop()
    return report(failures)
"""

import os
import signal
import socket
import subprocess
import sys

STOP_TIMEOUT_S = 30


def free_loopback_address():
    """"127.0.0.1:PORT" with a port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


class ServerProcess:
    """`binary` started with `flags`, stdout and stderr in task_server.log."""

    def __init__(self, binary, *flags):
        self.log_path = os.path.join(
            os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", os.environ["TEST_TMPDIR"]),
            "task_server.log")
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen([binary, *flags], stdout=log,
                                            stderr=subprocess.STDOUT)

    def log(self):
        """What the server has written so far."""
        with open(self.log_path) as log:
            return log.read()

    def stop(self):
        """Sends SIGTERM and waits for the exit; kills a server still running
        after STOP_TIMEOUT_S. Returns the failures: none, or that one."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return [f"the server did not exit within {STOP_TIMEOUT_S} s of SIGTERM"]
        return []


def report(failures):
    """Prints each failure to stderr; the test's exit code."""
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0
