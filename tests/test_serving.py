"""Serving from several processes: the sockets they share, the processes' lives, a busy port."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import ARTICLES, BOE, build_index, run_cli, write_archive
from web import serving

linux_only = pytest.mark.skipif(not serving.can_fork(), reason="serving processes are forked on Linux only")


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_listen_opens_every_address_of_a_name_on_one_port():
    sockets = serving.listen("localhost", 0)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(ports) == 1 and ports != {0}
        assert all(sock.type == socket.SOCK_STREAM for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


def test_serve_on_a_busy_port_says_so_without_a_traceback(tmp_path):
    data = write_archive(tmp_path / "data", {BOE: ARTICLES[BOE]})
    build_index(data, tmp_path / "index")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", "--data", data, "--index", tmp_path / "index", "--port", port)
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "Traceback" not in result.output


@linux_only
def test_two_processes_answer_on_one_port_and_stop_with_the_first(tmp_path):
    data = write_archive(tmp_path / "data", {BOE: ARTICLES[BOE]})
    build_index(data, tmp_path / "index")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "search.cli", "serve", "--data", str(data), "--index",
                               str(tmp_path / "index"), "--port", str(port), "--processes", "2"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        others = children_of(server.pid)
        while len(others) < 1 and time.monotonic() < deadline:  # it listens before it forks
            time.sleep(0.05)
            others = children_of(server.pid)
        assert len(others) == 1  # the second serving process
        answers: list[int] = []

        def ask() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            for _ in range(5):
                conn.request("GET", "/api/search?q=bank")
                reply = conn.getresponse()
                answers.append(json.loads(reply.read())["total"] if reply.status == 200 else -reply.status)
            conn.close()

        askers = [threading.Thread(target=ask) for _ in range(8)]  # new connections, spread by the kernel
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join(60)
        assert answers == [1] * 40
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert "(2 processes;" in output and "Traceback" not in output
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in others) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in others)


@pytest.mark.skipif(not sys.platform.startswith("linux") or __import__("platform").libc_ver()[0] != "glibc",
                    reason="malloc arenas are glibc's")
def test_the_server_limits_the_c_allocators_arenas():
    # In a process of its own: the setting lasts for the life of the process that makes it.
    code = "from web import serving; print(serving.limit_malloc_arenas(), serving.limit_malloc_arenas(3))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.stdout.split() == ["True", "True"], done.stderr
