"""A server's or a build's processes as /proc sees them (Linux): the tree under a
process, and each one's memory (RSS, peak RSS, PSS)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path("/proc", entry.name, "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        parent = int(stat.rpartition(")")[2].split()[1])  # after "(comm)": state, ppid, ...
        children[parent].append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    children = _children_by_parent()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def memory_kb(pid: int) -> dict[str, int]:
    """``VmRSS``, ``VmHWM`` (peak RSS) and ``RssAnon`` (the part of RSS that is the
    process's own memory, not pages of mapped files) of one process in kB; empty if it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: int(line.split()[1]) for line in lines
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:"))}


def proportional_kb(pid: int) -> int:
    """``Pss`` of one process in kB (0 if it is gone or the kernel does not say)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in lines if line.startswith("Pss:")), 0)
