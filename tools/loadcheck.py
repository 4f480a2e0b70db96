"""Load check: many concurrent searches against ``newsearch serve`` on loopback.

    python -m tools.loadcheck --data ../shared/corpora/reuters-21578 [--clients 16] [--hostile 2] [--seconds 20] [--page]

Builds an index for the corpus (in a scratch folder) unless ``--index`` names
one, starts ``newsearch serve`` on a free loopback port, then runs
``--clients`` threads, each with its own keep-alive connection, sending
searches drawn from a fixed keyword set for ``--seconds`` (bounded: it always
stops by itself). ``--hostile N`` of the clients send the costliest queries
the fuzz tests know of instead (``HOSTILE``), as a careless crowd or an
attacker would. Prints requests/s, latency p50/p95/max and errors, the
ordinary and the hostile clients apart, and the server's CPU time per answered
request (user + system, from ``/proc``; the figure that sets how many searches 2 cores
can serve, and the least noisy one on a shared machine). Not part of the test run:
these are figures to read.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from tools.benchmark import QUERIES, percentile
from tools.processes import process_tree


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/health")
            reply = conn.getresponse()
            if reply.status == 200:
                return json.loads(reply.read())
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server on port {port} did not come up within {timeout:.0f} s")


HOSTILE = [
    "ai*", "EV* battery", "a* b* c* d* e* f* g* h*", "co* pr* st* ma*", "*", "(oil OR gas)*",
    " ".join(QUERIES) * 3,  # long: every word optional, ranked by how many an article has
    "title:oil OR title:gas OR title:bank OR title:rate OR title:trade OR title:price",
    '"the of and" title:"oil prices" gas', "zepelin quarterli " * 5000, "oil " * 20000,
    "said AND year AND mln AND pct AND billion AND company AND share AND market",
]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds the process ``pid`` and its serving processes have used so
    far (None where ``/proc`` is missing)."""
    total = None
    for each in process_tree(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total = (total or 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def client(port: int, path: str, stop_at: float, seed: int, timings: list, errors: list,
           queries: list[str] = QUERIES) -> None:
    chooser = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.monotonic() < stop_at:
        url = f"{path}?{urlencode({'q': chooser.choice(queries)})}"
        started = time.perf_counter()
        try:
            conn.request("GET", url)
            reply = conn.getresponse()
            reply.read()
            if reply.status != 200 and not (reply.status == 400 and queries is HOSTILE):  # refused: an answer
                errors.append(f"{reply.status} {url[:120]}")
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__} {url[:120]}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        timings.append((time.perf_counter() - started) * 1000)
    conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="corpus folder")
    parser.add_argument("--index", type=Path, help="an existing index for it (default: build one in a scratch folder)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--hostile", type=int, default=0, help="how many of the clients send the costliest queries")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=8, help="server worker threads (of each process)")
    parser.add_argument("--processes", type=int, help="server processes (default: newsearch serve's)")
    parser.add_argument("--page", action="store_true", help="load the HTML page instead of /api/search")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="newsearch-load-") as scratch:
        index = args.index or Path(scratch) / "index"
        port = free_port()
        processes = ["--processes", str(args.processes)] if args.processes else []
        server = subprocess.Popen([sys.executable, "-m", "search.cli", "serve", "--data", str(args.data),
                                   "--index", str(index), "--port", str(port), "--threads", str(args.threads),
                                   *processes], stdout=subprocess.DEVNULL)
        try:
            health = wait_until_up(port)
            ordinary, hostile, errors = [], [], []
            stop_at = time.monotonic() + args.seconds
            path = "/" if args.page else "/api/search"
            workers = [threading.Thread(target=client, args=(port, path, stop_at, n, ordinary, errors))
                       for n in range(args.clients - args.hostile)]
            workers += [threading.Thread(target=client, args=(port, path, stop_at, n, hostile, errors, HOSTILE))
                        for n in range(args.hostile)]
            serving = len(process_tree(server.pid))
            cpu_before = cpu_seconds(server.pid)
            started = time.perf_counter()
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(args.seconds + 60)
            elapsed = time.perf_counter() - started
            cpu_after = cpu_seconds(server.pid)
        finally:
            server.terminate()
            server.wait(10)
    print(f"{health['documents']:,} documents, {args.clients} clients ({args.hostile} hostile), "
          f"{serving} server process(es) of {args.threads} threads, {elapsed:.1f} s, GET {path}")
    for name, timings in (("ordinary", ordinary), ("hostile", hostile)):
        if timings:
            print(f"{name:9s} {len(timings) / elapsed:,.0f} searches/s   p50 {percentile(timings, 50):.1f} ms   "
                  f"p95 {percentile(timings, 95):.1f} ms   max {max(timings):.1f} ms")
    if cpu_before is not None and cpu_after is not None and ordinary + hostile:
        print(f"server CPU {(cpu_after - cpu_before) * 1000 / len(ordinary + hostile):.2f} ms per answered request "
              f"({(cpu_after - cpu_before) / elapsed:.2f} cores busy)")
    print(f"errors {len(errors)}")
    for error in errors[:10]:
        print("  error:", error)


if __name__ == "__main__":
    main()
