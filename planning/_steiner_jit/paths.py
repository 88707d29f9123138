"""Shortest paths and graph preparation for the Steiner search (compiled with numba).

An indexed binary heap (decrease-key: at most n entries) under every Dijkstra; the graph's
reduction (component, hanging paths, long edges) before the search.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Improvements smaller than this share of the cost are float noise, not progress.
_RELATIVE_TOLERANCE = 1e-9

# Heap slot of a node never queued, and of a node settled.
NOT_QUEUED = -1
SETTLED = -2


@njit(cache=True)
def tolerance(cost: float) -> float:
    """The smallest improvement of ``cost`` that counts."""
    return _RELATIVE_TOLERANCE * max(1.0, abs(cost))


@njit(cache=True)
def _sift_up(heap, pos, key, i):
    """Move ``heap[i]`` up to its place; ``pos`` maps a node to its slot."""
    v = heap[i]
    k = key[v]
    while i > 0:
        up = (i - 1) >> 1
        u = heap[up]
        if key[u] <= k:
            break
        heap[i] = u
        pos[u] = i
        i = up
    heap[i] = v
    pos[v] = i


@njit(cache=True)
def _sift_down(heap, pos, key, i, size):
    v = heap[i]
    k = key[v]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and key[heap[child + 1]] < key[heap[child]]:
            child += 1
        u = heap[child]
        if k <= key[u]:
            break
        heap[i] = u
        pos[u] = i
        i = child
    heap[i] = v
    pos[v] = i


@njit(cache=True)
def heap_pop(heap, pos, key, size):
    """Remove the node of least key (read it from ``heap[0]`` first); return the new size."""
    pos[heap[0]] = SETTLED
    size -= 1
    if size > 0:
        heap[0] = heap[size]
        _sift_down(heap, pos, key, 0, size)
    return size


@njit(cache=True)
def heap_offer(heap, pos, key, size, v):
    """Insert ``v`` or move it up after its key went down; return the new size."""
    if pos[v] >= 0:
        _sift_up(heap, pos, key, pos[v])
        return size
    heap[size] = v
    _sift_up(heap, pos, key, size)
    return size + 1


@njit(cache=True)
def _relax(indptr, indices, data, dist, pred, heap, pos, size, limit):
    """Dijkstra's main loop over an indexed heap (decrease-key: at most n entries)."""
    while size > 0:
        v = heap[0]
        size = heap_pop(heap, pos, dist, size)
        d = dist[v]
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            nd = d + data[e]
            if nd < dist[u] and nd <= limit and pos[u] != SETTLED:
                dist[u] = nd
                pred[u] = v
                size = heap_offer(heap, pos, dist, size, u)


@njit(cache=True)
def dijkstra_from(indptr, indices, data, dist, limit):
    """Shortest distances from the finite entries of ``dist`` (updated in place), up to ``limit``.

    Seeded values let one call serve a set of sources (zeros) and the Dreyfus-Wagner step
    (arbitrary values). Returns the predecessors.
    """
    n = indptr.shape[0] - 1
    pred = np.full(n, -1, dtype=np.int64)
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, NOT_QUEUED, dtype=np.int64)
    size = 0
    for x in range(n):
        if dist[x] < np.inf:
            heap[size] = x
            pos[x] = size
            size += 1
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(heap, pos, dist, i, size)
    _relax(indptr, indices, data, dist, pred, heap, pos, size, limit)
    return pred


@njit(cache=True)
def dijkstra(indptr, indices, data, sources, limit):
    """Distance and predecessor of every node from its nearest source, up to ``limit``."""
    dist = np.full(indptr.shape[0] - 1, np.inf)
    for s in sources:
        dist[s] = 0.0
    pred = dijkstra_from(indptr, indices, data, dist, limit)
    return dist, pred


@njit(cache=True)
def terminal_rows(indptr, indices, data, terminals):
    """Distances terminal -> node and each terminal's predecessors, both as (|T|, n).

    Written row by row, where the (n, |T|) layout the constructions read would write with a
    stride of |T| cells: a cache miss per node, which cost more than the Dijkstras.
    """
    n = indptr.shape[0] - 1
    dist = np.empty((terminals.shape[0], n))
    pred = np.empty((terminals.shape[0], n), dtype=np.int64)
    for t in range(terminals.shape[0]):
        dist[t] = np.inf
        dist[t, terminals[t]] = 0.0
        pred[t] = dijkstra_from(indptr, indices, data, dist[t], np.inf)
    return dist, pred


@njit(cache=True)
def improve_from(indptr, indices, data, dist, pred, sources):
    """Lower ``dist`` (and ``pred``) in place by paths from ``sources``, set to distance 0.

    Only nodes that get closer are visited: after a merge of subtrees, a few paths from the new
    nodes change a few distances, where a full Dijkstra would visit the whole graph.
    """
    n = indptr.shape[0] - 1
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, NOT_QUEUED, dtype=np.int64)
    size = 0
    for s in sources:
        dist[s] = 0.0
        pred[s] = -1
        size = heap_offer(heap, pos, dist, size, s)
    _relax(indptr, indices, data, dist, pred, heap, pos, size, np.inf)


@njit(cache=True)
def reduce_graph(indptr, indices, data, terminals, drop_long):
    """The part of the graph worth searching, renumbered: ``(apart, keep, indptr, indices, data)``.

    Keeps the first terminal's connected component (``apart`` is the position of the first
    terminal outside it, or -1), cuts non-terminals of degree 1 repeatedly (never in an optimal
    tree; removing one may expose another) and, when ``drop_long``, edges a two-edge path beats.
    ``keep`` lists the original ids of the nodes kept, in order.
    """
    n = indptr.shape[0] - 1
    alive = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    alive[terminals[0]] = True
    stack[0] = terminals[0]
    top = 1
    while top > 0:
        top -= 1
        x = stack[top]
        for e in range(indptr[x], indptr[x + 1]):
            y = indices[e]
            if not alive[y]:
                alive[y] = True
                stack[top] = y
                top += 1
    for i in range(terminals.shape[0]):
        if not alive[terminals[i]]:
            return i, np.empty(0, np.int64), indptr, indices, data
    is_term = np.zeros(n, dtype=np.bool_)
    is_term[terminals] = True
    deg = np.zeros(n, dtype=np.int64)
    for x in range(n):
        if alive[x]:
            deg[x] = indptr[x + 1] - indptr[x]
            if deg[x] <= 1 and not is_term[x]:
                stack[top] = x
                top += 1
    while top > 0:
        top -= 1
        x = stack[top]
        if not alive[x]:
            continue
        alive[x] = False
        for e in range(indptr[x], indptr[x + 1]):
            y = indices[e]
            if alive[y]:
                deg[y] -= 1
                if deg[y] <= 1 and not is_term[y]:
                    stack[top] = y
                    top += 1
    keep = np.flatnonzero(alive)
    sub_indptr, sub_indices, sub_data = _subgraph(indptr, indices, data, alive)
    if drop_long:
        long = long_edges(sub_indptr, sub_indices, sub_data)
        if long.any():
            sub_indptr, sub_indices, sub_data = _without_arcs(
                sub_indptr, sub_indices, sub_data, long
            )
    return -1, keep, sub_indptr, sub_indices, sub_data


@njit(cache=True)
def _subgraph(indptr, indices, data, alive):
    """The CSR arrays of the subgraph induced by ``alive``, nodes renumbered in order."""
    n = indptr.shape[0] - 1
    new_id = np.full(n, -1, dtype=np.int64)
    count = 0
    for x in range(n):
        if alive[x]:
            new_id[x] = count
            count += 1
    sub_indptr = np.zeros(count + 1, dtype=np.int64)
    sub_indices = np.empty(indices.shape[0], dtype=np.int64)
    sub_data = np.empty(indices.shape[0], dtype=np.float64)
    k = 0
    for x in range(n):
        if not alive[x]:
            continue
        for e in range(indptr[x], indptr[x + 1]):
            if alive[indices[e]]:
                sub_indices[k] = new_id[indices[e]]
                sub_data[k] = data[e]
                k += 1
        sub_indptr[new_id[x] + 1] = k
    return sub_indptr, sub_indices[:k].copy(), sub_data[:k].copy()


@njit(cache=True)
def _without_arcs(indptr, indices, data, drop):
    """The CSR arrays without the arcs where ``drop`` is True."""
    n = indptr.shape[0] - 1
    new_indptr = np.zeros(n + 1, dtype=np.int64)
    new_indices = np.empty(indices.shape[0], dtype=np.int64)
    new_data = np.empty(indices.shape[0], dtype=np.float64)
    k = 0
    for x in range(n):
        for e in range(indptr[x], indptr[x + 1]):
            if not drop[e]:
                new_indices[k] = indices[e]
                new_data[k] = data[e]
                k += 1
        new_indptr[x + 1] = k
    return new_indptr, new_indices[:k].copy(), new_data[:k].copy()


@njit(cache=True)
def long_edges(indptr, indices, data):
    """Mask of the arcs (u, v) for which a path u-x-v is strictly shorter than the edge.

    Such an edge lies on no shortest path and in no optimal tree (swapping it for the path is
    cheaper), so it can go: on dense graphs (SteinLib C16-C20, D16-D20) more than half of them,
    which halves every Dijkstra that follows.
    """
    n = indptr.shape[0] - 1
    long = np.zeros(indices.shape[0], dtype=np.bool_)
    via = np.full(n, np.inf)
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            via[indices[e]] = data[e]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            bound = data[e] - tolerance(data[e])
            for f in range(indptr[v], indptr[v + 1]):
                if via[indices[f]] + data[f] < bound:
                    long[e] = True
                    break
        for e in range(indptr[u], indptr[u + 1]):
            via[indices[e]] = np.inf
    return long


@njit(cache=True)
def weight(indptr, indices, data, u, v):
    """Weight of the edge (u, v), which must exist: binary search in u's sorted row."""
    lo = indptr[u]
    hi = indptr[u + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return data[lo]


@njit(cache=True)
def cost(indptr, indices, data, edges):
    """Total weight of a set of edges."""
    total = 0.0
    for i in range(edges.shape[0]):
        total += weight(indptr, indices, data, edges[i, 0], edges[i, 1])
    return total


@njit(cache=True)
def trace_into(pred, start, out):
    """Write the predecessor walk from ``start`` to its source into ``out``; return its length."""
    length = 0
    x = start
    while True:
        out[length] = x
        length += 1
        if pred[x] < 0:
            return length
        x = pred[x]


@njit(cache=True)
def append_path(buffer, count, path, length):
    """Append the edges of ``path[:length]`` to ``buffer`` (grown when full)."""
    if count + length > buffer.shape[0]:
        bigger = np.empty((2 * (count + length), 2), dtype=np.int64)
        bigger[:count] = buffer[:count]
        buffer = bigger
    for i in range(length - 1):
        buffer[count, 0] = path[i]
        buffer[count, 1] = path[i + 1]
        count += 1
    return buffer, count
