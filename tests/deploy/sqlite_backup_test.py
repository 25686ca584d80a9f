#!/usr/bin/python3
"""The README's online backup of a SQLite database (VACUUM INTO with the
sqlite3 shell) taken while the real server binary keeps creating tasks: the
copy passes PRAGMA integrity_check, holds every task created before it
started, and the server's writes go on without an error.

Usage: sqlite_backup_test.py SERVER_BINARY PYTHON_STUBS_DIR
"""

import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, sys.argv[2])
sys.path.insert(0, os.path.abspath("tests/testing"))

import grpc  # noqa: E402
from server_process import ServerProcess, free_loopback_address, report  # noqa: E402
from tasks.v1 import tasks_pb2  # noqa: E402
from tasks.v1 import tasks_pb2_grpc  # noqa: E402

TASKS_BEFORE = 200  # created before the backup starts
TASKS_AFTER = 200   # created after it ended, to show writes went on
TIMEOUT_S = 120


class Writer(threading.Thread):
    """Creates tasks one after another until stopped; counts them."""

    def __init__(self, address):
        super().__init__(daemon=True)
        self.channel = grpc.insecure_channel(address)
        self.stub = tasks_pb2_grpc.TaskServiceStub(self.channel)
        self.created = 0
        self.errors = []
        self.stop = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        while not self.stop.is_set():
            title = f"task {self.created + 1}"
            try:
                self.stub.CreateTask(
                    tasks_pb2.CreateTaskRequest(task=tasks_pb2.Task(title=title)),
                    timeout=30)
            except grpc.RpcError as error:
                self.errors.append(f"{title}: {error.code().name} {error.details()}")
                if len(self.errors) > 10:
                    break
                continue
            with self.progress:
                self.created += 1
                self.progress.notify_all()

    def wait_for(self, count):
        with self.progress:
            if not self.progress.wait_for(
                    lambda: self.created >= count or not self.is_alive(), TIMEOUT_S):
                sys.exit(f"only {self.created} tasks created within {TIMEOUT_S} s")
        if self.created < count:
            sys.exit(f"the writer stopped after {self.created} tasks: {self.errors}")
        return self.created


def sqlite(database, sql):
    return subprocess.run(["sqlite3", database, sql], check=True, text=True,
                          stdout=subprocess.PIPE, timeout=TIMEOUT_S).stdout.strip()


def main():
    server_binary = sys.argv[1]
    tmp = os.environ["TEST_TMPDIR"]
    database = os.path.join(tmp, "tasks.db")
    backup = os.path.join(tmp, "backup.db")
    address = free_loopback_address()
    server = ServerProcess(server_binary, f"--listen={address}", f"--db={database}")
    failures = []
    try:
        grpc.channel_ready_future(grpc.insecure_channel(address)).result(timeout=TIMEOUT_S)
        writer = Writer(address)
        writer.start()
        before = writer.wait_for(TASKS_BEFORE)
        started = time.monotonic()
        # The README's command (Operations: backups), run from the database's folder.
        subprocess.run(["sqlite3", "tasks.db", "VACUUM INTO 'backup.db'"], cwd=tmp,
                       check=True, timeout=TIMEOUT_S)
        seconds = time.monotonic() - started
        during = writer.created
        after = writer.wait_for(during + TASKS_AFTER)
        writer.stop.set()
        writer.join(TIMEOUT_S)

        integrity = sqlite(backup, "PRAGMA integrity_check")
        in_backup = int(sqlite(backup, "SELECT count(*) FROM tasks"))
        in_database = int(sqlite(database, "SELECT count(*) FROM tasks"))
        print(f"FIGURE sqlite_backup_test: {before} tasks when the backup started, "
              f"{during} when it ended ({seconds:.3f} s), {in_backup} in the copy, "
              f"{in_database} in the database at the end; integrity_check: "
              f"{integrity}; write errors: {len(writer.errors)}")
        if integrity != "ok":
            failures.append(f"the copy fails integrity_check: {integrity}")
        # The writer has one call in flight: it may have committed (and be in
        # the copy) before its reply was counted in `during`.
        if not before <= in_backup <= during + 1:
            failures.append(
                f"the copy holds {in_backup} tasks, want {before}..{during + 1}")
        if in_database != writer.created:
            failures.append(f"{writer.created} tasks created, {in_database} stored")
        failures += [f"write error: {e}" for e in writer.errors]
    finally:
        failures += server.stop()
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
