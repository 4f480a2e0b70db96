"""Set operations on ascending numpy arrays of distinct numbers.

Scoring a query at once intersects and filters posting lists (document
numbers within one segment) and phrase positions (``document << 32 |
position``), arrays that are always sorted already. numpy's ``intersect1d``
and ``isin`` sort their inputs together, which made them the largest single
cost of a search at 200k articles; these answer the same without a sort:

* ``common(a, b, size)``: the numbers in both, for numbers below ``size``
  (a segment's document count), through a mask of ``size`` flags;
* ``common_at(a, b, size)``: the same with where each is in ``a`` and ``b``;
* ``union(arrays, size)``: the numbers in any of them;
* ``places(numbers, size)``: where each number is in ``numbers``, as an
  array indexed by the number (``np.searchsorted`` without a search);
* ``isin_sorted(items, values, size=None)``: which of ``items`` are in
  ``values``, by binary search for numbers of any size (or a mask, given ``size``).
"""

from __future__ import annotations

import numpy as np


def common(a: np.ndarray, b: np.ndarray, size: int) -> np.ndarray:
    """The numbers in both ``a`` and ``b`` (ascending, distinct, all below ``size``), ascending."""
    flags = np.zeros(size, dtype=bool)
    flags[b] = True
    return a[flags[a]]


def union(arrays: list[np.ndarray], size: int) -> np.ndarray:
    """The numbers in any of ``arrays`` (each of distinct numbers below ``size``), ascending."""
    flags = np.zeros(size, dtype=bool)
    for numbers in arrays:
        flags[numbers] = True
    return np.flatnonzero(flags)


def places(numbers: np.ndarray, size: int) -> np.ndarray:
    """An array where ``places(numbers, size)[n]`` is the index of ``n`` in ``numbers``
    (distinct, all below ``size``); what it holds for other numbers is undefined."""
    where = np.empty(size, dtype=np.intp)
    where[numbers] = np.arange(len(numbers))
    return where


def common_at(a: np.ndarray, b: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``common(a, b, size)`` and the indices of those numbers in ``a`` and in ``b``
    (``np.intersect1d(a, b, assume_unique=True, return_indices=True)``)."""
    where = np.full(size, -1, dtype=np.int64)
    where[b] = np.arange(len(b))
    in_b = where[a]
    in_a = np.flatnonzero(in_b >= 0)
    return a[in_a], in_a, in_b[in_a]


def isin_sorted(items: np.ndarray, values: np.ndarray, size: int | None = None) -> np.ndarray:
    """Which of ``items`` are in ``values`` (ascending, distinct), as flags; with
    ``size`` (every number below it), through a mask rather than binary search."""
    if size is not None:
        flags = np.zeros(size, dtype=bool)
        flags[values] = True
        return flags[items]
    if not len(values):
        return np.zeros(len(items), dtype=bool)
    at = np.searchsorted(values, items)
    at[at == len(values)] = 0
    return values[at] == items
