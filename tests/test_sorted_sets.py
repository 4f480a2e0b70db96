"""search.sorted_sets gives exactly numpy's answers on sorted arrays of distinct numbers."""

from __future__ import annotations

import numpy as np
import pytest

from search.sorted_sets import common, common_at, isin_sorted, places, union


def _sorted_sample(rng, size: int, count: int) -> np.ndarray:
    return np.sort(rng.choice(size, min(count, size), replace=False)).astype(np.int64)


@pytest.mark.parametrize("count_a,count_b", [(0, 5), (5, 0), (1, 1), (30, 500), (500, 30), (900, 900)])
def test_common_is_numpys_intersection(count_a, count_b):
    rng = np.random.default_rng(count_a * 1000 + count_b)
    size = 1000
    a, b = _sorted_sample(rng, size, count_a), _sorted_sample(rng, size, count_b)
    both, in_a, in_b = np.intersect1d(a, b, assume_unique=True, return_indices=True)
    assert common(a, b, size).tolist() == both.tolist()
    found, found_in_a, found_in_b = common_at(a, b, size)
    assert found.tolist() == both.tolist()
    assert found_in_a.tolist() == in_a.tolist() and found_in_b.tolist() == in_b.tolist()


@pytest.mark.parametrize("count_items,count_values", [(0, 3), (3, 0), (50, 50), (400, 20), (20, 400)])
def test_isin_sorted_is_numpys_isin_for_big_numbers(count_items, count_values):
    rng = np.random.default_rng(count_items + 7 * count_values)
    size = 1 << 40  # phrase keys: document << 32 | position
    items, values = _sorted_sample(rng, size, count_items), _sorted_sample(rng, size, count_values)
    if len(items) and len(values):
        values = np.union1d(values, items[::3])  # some in common
    assert isin_sorted(items, values).tolist() == np.isin(items, values).tolist()


@pytest.mark.parametrize("counts", [(0, 4), (1, 1), (30, 500, 7), (900, 900)])
def test_places_of_a_union_are_numpys_searchsorted(counts):
    rng = np.random.default_rng(sum(counts))
    size = 1000
    parts = [_sorted_sample(rng, size, count) for count in counts]
    everything = union(parts, size)
    assert everything.tolist() == sorted(set().union(*(part.tolist() for part in parts)))
    place = places(everything, size)
    for part in parts:
        assert place[part].tolist() == np.searchsorted(everything, part).tolist()
