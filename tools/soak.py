"""Soak: ``newsearch serve`` under steady load while the archive keeps changing.

    python -m tools.soak ../shared/corpora/reuters-21578 [--seconds 600] [--clients 4] [--update-every 30]

Indexes a hard-linked copy of the archive in a scratch folder (the archive is
never written), starts ``newsearch serve`` on it, keeps ``--clients`` clients
searching (``tools.loadcheck``), and every ``--update-every`` seconds changes
30 files (``tools.benchmark.change_thirty_files``) and runs ``newsearch index
update``, which the server picks up. Every 10 seconds it samples the server's
RSS, PSS, own memory (``RssAnon``) and open file descriptors, summed over the
server's processes. Prints them after the warm-up (the first sixth of the run)
and at the end, their growth since the warm-up, searches, updates and errors.
RSS also counts the pages of the memory-mapped index that searches have
touched; ``RssAnon`` does not, so it is the figure that shows a leak. Not part
of the test run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tools.benchmark import change_thirty_files
from tools.loadcheck import client, free_port, wait_until_up
from tools.processes import memory_kb, process_tree, proportional_kb
from tools.scale import hard_link_copy

SAMPLE_SECONDS = 10


def open_descriptors(pid: int) -> int:
    """Open file descriptors of the server's processes, summed."""
    total = 0
    for each in process_tree(pid):
        try:
            total += len(os.listdir(f"/proc/{each}/fd"))
        except OSError:
            pass
    return total


def rss_kb(pid: int) -> int:
    """RSS of the server's processes, summed."""
    return sum(memory_kb(each).get("VmRSS", 0) for each in process_tree(pid))


def anonymous_kb(pid: int) -> int:
    """The server's processes' own memory (``RssAnon``: heap and stacks, not the pages of
    the memory-mapped index, which RSS also counts), summed."""
    return sum(memory_kb(each).get("RssAnon", 0) for each in process_tree(pid))


def pss_kb(pid: int) -> int:
    """PSS of the server's processes, summed (pages they share divided among them)."""
    return sum(proportional_kb(each) for each in process_tree(pid))


def newsearch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "search.cli", *args], capture_output=True, text=True, timeout=600)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--update-every", type=float, default=30.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsearch-soak-") as scratch:
        data, index = Path(scratch) / "data", Path(scratch) / "index"
        hard_link_copy(args.archive, data)
        built = newsearch("index", "build", "--data", str(data), "--index", str(index))
        if built.returncode:
            raise SystemExit(f"the build failed: {built.stderr[-2000:]}")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "search.cli", "serve", "--data", str(data), "--index",
                                   str(index), "--port", str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_until_up(port)
            figures = soak(server.pid, port, data, index, args)
        finally:
            server.terminate()
            server.wait(10)
    report(figures, args)


def soak(pid: int, port: int, data: Path, index: Path, args: argparse.Namespace) -> dict:
    timings: list[float] = []
    errors: list[str] = []
    started = time.monotonic()
    stop_at = started + args.seconds
    clients = [threading.Thread(target=client, args=(port, "/api/search", stop_at, n, timings, errors))
               for n in range(args.clients)]
    for thread in clients:
        thread.start()
    samples: list[tuple[float, int, int, int, int]] = []  # (seconds in, RSS kB, descriptors, PSS kB, anonymous kB)
    updates, failed_updates = 0, []
    next_update, next_sample = started + args.update_every, started
    while time.monotonic() < stop_at:
        now = time.monotonic()
        if now >= next_sample:
            samples.append((now - started, rss_kb(pid), open_descriptors(pid), pss_kb(pid), anonymous_kb(pid)))
            next_sample += SAMPLE_SECONDS
        if now >= next_update:
            change_thirty_files(data)
            done = newsearch("index", "update", "--data", str(data), "--index", str(index))
            updates += 1
            if done.returncode:
                failed_updates.append(done.stderr[-300:])
            next_update += args.update_every
        time.sleep(0.2)
    for thread in clients:
        thread.join(30)
    samples.append((time.monotonic() - started, rss_kb(pid), open_descriptors(pid), pss_kb(pid), anonymous_kb(pid)))
    return {"samples": samples, "searches": len(timings), "errors": errors, "updates": updates,
            "failed_updates": failed_updates}


def report(figures: dict, args: argparse.Namespace) -> None:
    samples = figures["samples"]
    warm = next((s for s in samples if s[0] >= args.seconds / 6), samples[0])
    last = samples[-1]
    growth = (last[1] - warm[1]) / warm[1] * 100 if warm[1] else 0.0
    print(f"{args.seconds:.0f} s, {args.clients} clients, an update every {args.update_every:.0f} s")
    print(f"after warm-up ({warm[0]:.0f} s): RSS {warm[1] / 1024:.0f} MB, {warm[2]} descriptors")
    print(f"at the end ({last[0]:.0f} s): RSS {last[1] / 1024:.0f} MB, {last[2]} descriptors")
    print(f"RSS growth since warm-up {growth:+.1f}%, peak RSS {max(s[1] for s in samples) / 1024:.0f} MB")
    if warm[3]:
        print(f"PSS {warm[3] / 1024:.0f} MB after warm-up, {last[3] / 1024:.0f} MB at the end "
              f"({(last[3] - warm[3]) / warm[3] * 100:+.1f}%)")
    if warm[4]:
        print(f"own memory (RssAnon, without mapped index pages) {warm[4] / 1024:.0f} MB after warm-up, "
              f"{last[4] / 1024:.0f} MB at the end ({(last[4] - warm[4]) / warm[4] * 100:+.1f}%)")
    print(f"searches {figures['searches']:,}, updates {figures['updates']} ({len(figures['failed_updates'])} failed), "
          f"errors {len(figures['errors'])}")
    for problem in (figures["errors"] + figures["failed_updates"])[:5]:
        print("  error:", problem)


if __name__ == "__main__":
    main()
