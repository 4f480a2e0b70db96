"""Developer tools, run from the repository root and not shipped in the wheel.

* ``python -m tools.benchmark CORPUS``: build time, index size and query
  latency of newsearch beside the baselines in ``search.baselines``;
* ``python -m tools.loadcheck --data CORPUS``: concurrent searches against
  ``newsearch serve`` on loopback;
* ``python -m tools.scale ARCHIVE...``: what each archive size costs (build
  time and memory, index size, update, open, served latency, server memory,
  command-line wall time);
* ``python -m tools.make_archive CORPORA OUT --count N``: big test archives.

The first three print figures to read; they are not part of the test run.
"""
