#!/usr/bin/python3
"""Runs every `buf curl` command of README.md's "Calling it with buf curl"
section, in order, against the real server binary on a free loopback port with
a fresh SQLite file, so that the README's examples cannot drift from the API.

Read from the README, not copied: a command's output supplies the placeholders
of later ones (PASTE_NEXT_PAGE_TOKEN_HERE, PASTE_ETAG_HERE,
PASTE_RESUME_TOKEN_HERE); a command whose comment says "Fails: CODE, reason
REASON." must exit with buf's code for CODE and print REASON decoded (through
tools/error_details.sh); every other command must succeed. A stream that does
not end by itself (WatchTasks) must print an event, and is then ended.

Usage: buf_curl_examples_test.py SERVER_BINARY (run by Bazel, from the
runfiles root).
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.abspath("tests/testing"))

from server_process import ServerProcess, free_loopback_address, report  # noqa: E402

SECTION = "## Calling it with buf curl"
README_ADDRESS = "localhost:50051"
COMMAND_TIMEOUT_S = 60
START_TIMEOUT_S = 60
# Every method a newcomer needs an example of.
METHODS = [
    "grpc.health.v1.Health/Check",
    "tasks.v1.TaskService/CreateProject",
    "tasks.v1.TaskService/GetProject",
    "tasks.v1.TaskService/ListProjects",
    "tasks.v1.TaskService/UpdateProject",
    "tasks.v1.TaskService/DeleteProject",
    "tasks.v1.TaskService/CreateTask",
    "tasks.v1.TaskService/BatchCreateTasks",
    "tasks.v1.TaskService/GetTask",
    "tasks.v1.TaskService/ListTasks",
    "tasks.v1.TaskService/UpdateTask",
    "tasks.v1.TaskService/DeleteTask",
    "tasks.v1.TaskService/WatchTasks",
]
# Streams that run until the client ends them: a command calling one must
# print an event (each has a resumeToken) within COMMAND_TIMEOUT_S.
ENDLESS_STREAMS = ["tasks.v1.TaskService/WatchTasks"]
EVENT = re.compile(r'"resumeToken":\s*"')
# Answer fields whose last printed value fills a placeholder of a later command.
PLACEHOLDERS = (("PASTE_NEXT_PAGE_TOKEN_HERE", "nextPageToken"),
                ("PASTE_ETAG_HERE", "etag"),
                ("PASTE_RESUME_TOKEN_HERE", "resumeToken"))
# gRPC status codes by name; buf curl exits with the code times 8.
CODES = {
    "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5, "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14,
    "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}
FAILS = re.compile(r"Fails: ([A-Z_]+), reason ([A-Z_]+)\.")


def section_commands(readme):
    """(comment, command) for each `buf curl` command of SECTION, in order."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    text = readme[start:end if end >= 0 else len(readme)]
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        comment, pending = [], ""
        for line in block.splitlines():
            if pending:
                pending += " " + line.strip()
            elif not line.strip():
                comment = []
                continue
            elif line.startswith("#"):
                comment.append(line)
                continue
            else:
                pending = line.strip()
            if pending.endswith("\\"):
                pending = pending[:-1].rstrip()
                continue
            if pending.startswith("buf curl"):
                commands.append(("\n".join(comment), pending))
            comment, pending = [], ""
    return commands


def run(command, env):
    """Runs one shell command; returns (exit code, stdout and stderr)."""
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True,
                            timeout=COMMAND_TIMEOUT_S)
    return result.returncode, result.stdout


def run_until_event(command, env):
    """Runs a command that streams until ended; returns (None, its output up
    to the first event) once it printed one and was ended, or (exit code or
    "timeout", output) when it exited or COMMAND_TIMEOUT_S passed first."""
    process = subprocess.Popen(["bash", "-o", "pipefail", "-c", command],
                               env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True,
                               start_new_session=True)
    timer = threading.Timer(COMMAND_TIMEOUT_S,
                            lambda: os.killpg(process.pid, signal.SIGKILL))
    timer.start()
    output = ""
    try:
        # A pretty-printed event ends with a line "}" at the start.
        for line in process.stdout:
            output += line
            if line.startswith("}") and EVENT.search(output):
                return None, output
        process.wait()
        return ("timeout" if not timer.is_alive() else process.returncode,
                output)
    finally:
        timer.cancel()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_serving(server, address, env):
    deadline = time.monotonic() + START_TIMEOUT_S
    check = ("buf curl --protocol grpc --http2-prior-knowledge "
             f"http://{address}/grpc.health.v1.Health/Check")
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"the server exited with {server.process.returncode}:\n"
                     + server.log())
        code, out = run(check, env)
        if code == 0 and '"SERVING"' in out:
            return
        time.sleep(0.2)
    sys.exit(f"the server was not SERVING within {START_TIMEOUT_S} s:\n"
             + server.log())


def main():
    server_binary = sys.argv[1]
    readme_path = os.path.realpath("README.md")
    source_root = os.path.dirname(readme_path)
    buf_bin = os.path.join(source_root, "tools/buf/node_modules/.bin")
    if not os.access(os.path.join(buf_bin, "buf"), os.X_OK):
        sys.exit(f"{buf_bin}/buf is missing: run tools/install_node_modules.sh "
                 "(./bazelw runs it before every command)")
    tmp = os.environ["TEST_TMPDIR"]
    env = dict(os.environ, PATH=buf_bin + ":" + os.environ["PATH"],
               BUF_CACHE_DIR=os.path.join(tmp, "buf_cache"))

    commands = section_commands(open(readme_path).read())
    failures = []
    for method in METHODS:
        if not any(method in command for _, command in commands):
            failures.append(f"no buf curl example calls {method}")

    address = free_loopback_address()
    server = ServerProcess(server_binary, f"--listen={address}",
                           f"--db={os.path.join(tmp, 'tasks.db')}")
    try:
        wait_until_serving(server, address, env)
        last = {}
        documented_failures = 0
        for comment, command in commands:
            command = command.replace(README_ADDRESS, address)
            for placeholder, field in PLACEHOLDERS:
                if placeholder in command:
                    if field not in last:
                        failures.append(f"no earlier answer had a {field} for: {command}")
                    command = command.replace(placeholder, last.get(field, ""))
            fails = FAILS.search(comment)
            if not fails and any(s in command for s in ENDLESS_STREAMS):
                code, out = run_until_event(command, env)
                print(f"$ {command}\n{out}"
                      f"({'ended after its first event' if code is None else f'exit {code}'})\n")
                if code is not None:
                    failures.append(f"no event before exit {code}: {command}")
                continue
            code, out = run(command, env)
            print(f"$ {command}\n{out}(exit {code})\n")
            for _, field in PLACEHOLDERS:
                # As printed, JSON escapes included: what a reader pastes.
                values = re.findall(rf'"{field}":\s*"((?:[^"\\]|\\.)+)"', out)
                if values:
                    last[field] = values[-1]
            if fails:
                documented_failures += 1
                name, reason = fails.groups()
                if code != CODES[name] * 8:
                    failures.append(f"exit {code}, want {CODES[name] * 8} ({name}): {command}")
                if f'"code": "{name.lower()}"' not in out:
                    failures.append(f"no {name} printed: {command}")
                if f'"reason":"{reason}"' not in out:
                    failures.append(f"no decoded reason {reason} printed: {command}")
            elif code != 0:
                failures.append(f"exit {code}: {command}")
        print(f"FIGURE buf_curl_examples_test: {len(commands)} README commands run, "
              f"{documented_failures} of them failing as documented; "
              f"{len(failures)} check(s) failed")
    finally:
        failures += server.stop()

    if not commands:
        failures.append(f"README.md's \"{SECTION}\" has no buf curl command")
    return report(failures)


if __name__ == "__main__":
    sys.exit(main())
