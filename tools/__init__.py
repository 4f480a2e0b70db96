"""Developer tools, run from the repository root and not shipped in the wheel.

* ``python -m tools.benchmark CORPUS``: build time, index size and query
  latency of newsearch beside the baselines in ``search.baselines``;
* ``python -m tools.loadcheck --data CORPUS``: concurrent searches against
  ``newsearch serve`` on loopback.

Both print figures to read; they are not part of the test run.
"""
