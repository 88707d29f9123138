"""Local search for the Steiner search (compiled with numba): key-path exchange and key-vertex
elimination (Uchoa & Werneck), each replacement found by a bounded multi-source Dijkstra.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from planning._steiner_jit.paths import (
    append_path,
    cost,
    dijkstra_from,
    tolerance,
    trace_into,
    weight,
)
from planning._steiner_jit.trees import incidence, polish


@njit(cache=True)
def _tree(edges, n, is_term):
    """Adjacency, parent and Euler-tour interval of a tree, rooted at one of its terminals."""
    m = edges.shape[0]
    ptr, incident = incidence(edges, n)
    adj = np.empty(2 * m, dtype=np.int64)
    for x in range(n):  # the neighbour across each of x's edges
        for k in range(ptr[x], ptr[x + 1]):
            e = incident[k]
            adj[k] = edges[e, 1] if edges[e, 0] == x else edges[e, 0]
    root = edges[0, 0]
    for i in range(m):
        if is_term[edges[i, 0]]:
            root = edges[i, 0]
            break
        if is_term[edges[i, 1]]:
            root = edges[i, 1]
            break
    parent = np.full(n, -1, dtype=np.int64)
    tin = np.full(n, -1, dtype=np.int64)
    tout = np.full(n, -1, dtype=np.int64)
    stack = np.empty(m + 1, dtype=np.int64)
    cursor = ptr[:-1].copy()
    top = 1
    stack[0] = root
    clock = 0
    tin[root] = 0
    while top > 0:
        x = stack[top - 1]
        if cursor[x] < ptr[x + 1]:
            y = adj[cursor[x]]
            cursor[x] += 1
            if y != parent[x]:
                parent[y] = x
                clock += 1
                tin[y] = clock
                stack[top] = y
                top += 1
        else:
            tout[x] = clock
            top -= 1
    return ptr, adj, parent, tin, tout


@njit(cache=True)
def _key_paths(ptr, adj, is_term):
    """Maximal paths whose inner nodes are degree-2 Steiner nodes, each once: (flat, offsets)."""
    n = ptr.shape[0] - 1
    flat = np.empty(2 * adj.shape[0] + 2, dtype=np.int64)
    offsets = np.zeros(adj.shape[0] + 1, dtype=np.int64)
    count = 0
    size = 0
    for u in range(n):
        d = ptr[u + 1] - ptr[u]
        if d == 0 or not (is_term[u] or d >= 3):
            continue
        for k in range(ptr[u], ptr[u + 1]):
            start = size
            flat[size] = u
            flat[size + 1] = adj[k]
            size += 2
            while True:
                x = flat[size - 1]
                if is_term[x] or ptr[x + 1] - ptr[x] >= 3:
                    break
                a = adj[ptr[x]]
                nxt = adj[ptr[x] + 1] if a == flat[size - 2] else a
                flat[size] = nxt
                size += 1
            if flat[start] < flat[size - 1]:
                offsets[count + 1] = size
                count += 1
            else:
                size = start
            offsets[count] = size
    return flat, offsets[: count + 1].copy()


@njit(cache=True)
def _path_hash(path):
    h = np.uint64(1469598103934665603)
    for x in path:
        h = (h ^ np.uint64(x)) * np.uint64(1099511628211)
    return h


@njit(cache=True)
def _path_cost(indptr, indices, data, path):
    total = 0.0
    for i in range(path.shape[0] - 1):
        total += weight(indptr, indices, data, path[i], path[i + 1])
    return total


@njit(cache=True)
def _edge_key(u, v, n):
    """One key per undirected edge: ``min * n + max``."""
    return min(u, v) * n + max(u, v)


@njit(cache=True)
def _replace(edges, drop_keys, n, add, add_count):
    """The edges not in ``drop_keys`` (min * n + max), followed by ``add[:add_count]``."""
    out = np.empty((edges.shape[0] + add_count, 2), dtype=np.int64)
    k = 0
    for i in range(edges.shape[0]):
        u, v = edges[i, 0], edges[i, 1]
        if _edge_key(u, v, n) in drop_keys:
            continue
        out[k, 0] = u
        out[k, 1] = v
        k += 1
    for i in range(add_count):
        out[k] = add[i]
        k += 1
    return out[:k]


@njit(cache=True)
def _swap(indptr, indices, data, is_term, edges, drop, add, count):
    """The tree with the ``drop`` edges (keys) replaced by ``add[:count]``, polished; its cost."""
    n = is_term.shape[0]
    candidate = polish(indptr, indices, data, _replace(edges, drop, n, add, count), is_term)
    return candidate, cost(indptr, indices, data, candidate)


@njit(cache=True)
def key_path_exchange(indptr, indices, data, is_term, edges, work, budget):
    """Replace each key path by a cheaper path joining the two parts it separates.

    Returns the tree and the work spent (n node slots per Dijkstra) after the caller's ``work``.
    """
    n = is_term.shape[0]
    failed = {np.uint64(0)}  # paths with no cheaper replacement: not retried
    current = cost(indptr, indices, data, edges)
    path = np.empty(n + 1, dtype=np.int64)
    while work <= budget:
        improved = False
        ptr, adj, parent, tin, tout = _tree(edges, n, is_term)
        flat, offsets = _key_paths(ptr, adj, is_term)
        for p in range(offsets.shape[0] - 1):
            kp = flat[offsets[p] : offsets[p + 1]]
            h = _path_hash(kp)
            if h in failed:
                continue
            last = kp.shape[0] - 1
            lower = kp[last] if parent[kp[last]] == kp[last - 1] else kp[0]
            inner = np.zeros(n, dtype=np.bool_)
            inner[kp[1:last]] = True
            n_below = tout[lower] - tin[lower] + 1
            n_tree = edges.shape[0] + 1
            # The smaller side is the source of the search, the other its target.
            below_is_source = 2 * n_below <= n_tree - (last - 1)
            seeds = np.full(n, np.inf)
            target = np.zeros(n, dtype=np.bool_)
            for x in range(n):
                if tin[x] < 0 or inner[x]:
                    continue
                below = tin[lower] <= tin[x] <= tout[lower]
                if below == below_is_source:
                    seeds[x] = 0.0
                else:
                    target[x] = True
            limit = _path_cost(indptr, indices, data, kp)
            work += n
            pred = dijkstra_from(indptr, indices, data, seeds, limit)
            end = -1
            best = limit - tolerance(limit)
            for x in range(n):
                if target[x] and seeds[x] < best:
                    best = seeds[x]
                    end = x
            if end < 0:
                failed.add(h)
                continue
            length = trace_into(pred, end, path)
            add = np.empty((length, 2), dtype=np.int64)
            add, count = append_path(add, 0, path, length)
            drop = {np.int64(-1)}
            for i in range(last):
                drop.add(_edge_key(kp[i], kp[i + 1], n))
            candidate, new_cost = _swap(indptr, indices, data, is_term, edges, drop, add, count)
            if new_cost < current - tolerance(current):
                edges, current, improved = candidate, new_cost, True
                break
            failed.add(h)  # the same move on the same pieces would give the same tree
        if not improved:
            break
    return edges, work


@njit(cache=True)
def _prim(pair):
    """MST of a small dense distance matrix: (weight, via) with via[j] the parent of part j."""
    k = pair.shape[0]
    best = pair[0].copy()
    via = np.zeros(k, dtype=np.int64)
    inside = np.zeros(k, dtype=np.bool_)
    inside[0] = True
    total = 0.0
    for _ in range(k - 1):
        j = -1
        low = np.inf
        for c in range(k):
            if not inside[c] and best[c] < low:
                low = best[c]
                j = c
        if j < 0:
            return np.inf, via
        total += low
        inside[j] = True
        for c in range(k):
            if not inside[c] and pair[j, c] < best[c]:
                best[c] = pair[j, c]
                via[c] = j
    return total, via


@njit(cache=True)
def key_vertex_elimination(indptr, indices, data, is_term, edges, work, budget):
    """Remove a Steiner key vertex with its key paths and reconnect the pieces by shortest paths."""
    n = is_term.shape[0]
    failed = {np.uint64(0)}
    current = cost(indptr, indices, data, edges)
    path = np.empty(n + 1, dtype=np.int64)
    while work <= budget:
        improved = False
        ptr, adj, parent, tin, tout = _tree(edges, n, is_term)
        flat, offsets = _key_paths(ptr, adj, is_term)
        n_paths = offsets.shape[0] - 1
        for v in range(n):
            if is_term[v] or ptr[v + 1] - ptr[v] < 3:
                continue
            # Its key paths, each read from v.
            mine = np.empty(ptr[v + 1] - ptr[v], dtype=np.int64)
            forward = np.empty(mine.shape[0], dtype=np.bool_)
            k = 0
            for p in range(n_paths):
                s, e = offsets[p], offsets[p + 1] - 1
                if flat[s] == v or flat[e] == v:
                    mine[k] = p
                    forward[k] = flat[s] == v
                    k += 1
            ends = np.empty(k, dtype=np.int64)
            for i in range(k):
                p = mine[i]
                ends[i] = flat[offsets[p + 1] - 1] if forward[i] else flat[offsets[p]]
            key = np.empty(k + 1, dtype=np.int64)
            key[0] = v
            key[1:] = np.sort(ends)
            h = _path_hash(key)
            if h in failed:
                continue
            # Label every tree node with the part it falls in once v and its paths are gone.
            label = np.full(n, -1, dtype=np.int64)
            removed = 0.0
            for i in range(k):
                p = mine[i]
                kp = flat[offsets[p] : offsets[p + 1]]
                if not forward[i]:
                    kp = kp[::-1]
                removed += _path_cost(indptr, indices, data, kp)
                inner = np.zeros(n, dtype=np.bool_)
                inner[kp[:-1]] = True
                end = kp[-1]
                if parent[kp[1]] == v:  # going down from v
                    for x in range(n):
                        if tin[x] >= 0 and tin[end] <= tin[x] <= tout[end]:
                            label[x] = i
                else:
                    for x in range(n):
                        if tin[x] >= 0 and not inner[x] and not tin[v] <= tin[x] <= tout[v]:
                            label[x] = i
            # Every part but the last is the source of a search: make the largest the last.
            sizes = np.zeros(k, dtype=np.int64)
            for x in range(n):
                if label[x] >= 0:
                    sizes[label[x]] += 1
            largest = np.argmax(sizes)
            for x in range(n):
                if label[x] == largest:
                    label[x] = k - 1
                elif label[x] == k - 1:
                    label[x] = largest
            preds = np.empty((k - 1, n), dtype=np.int64)
            pair = np.full((k, k), np.inf)
            reach = np.full((k, k), -1, dtype=np.int64)
            for i in range(k - 1):
                seeds = np.full(n, np.inf)
                for x in range(n):
                    if label[x] == i:
                        seeds[x] = 0.0
                work += n
                preds[i] = dijkstra_from(indptr, indices, data, seeds, removed)
                for x in range(n):
                    j = label[x]
                    if j > i and seeds[x] < pair[i, j]:
                        pair[i, j] = seeds[x]
                        pair[j, i] = seeds[x]
                        reach[i, j] = x
            total, via = _prim(pair)
            if not total < removed - tolerance(removed):
                failed.add(h)
                continue
            add = np.empty((n, 2), dtype=np.int64)
            count = 0
            for j in range(1, k):
                a, b = min(j, via[j]), max(j, via[j])
                length = trace_into(preds[a], reach[a, b], path)
                add, count = append_path(add, count, path, length)
            drop = {np.int64(-1)}
            for i in range(k):
                p = mine[i]
                for q in range(offsets[p], offsets[p + 1] - 1):
                    drop.add(_edge_key(flat[q], flat[q + 1], n))
            candidate, new_cost = _swap(indptr, indices, data, is_term, edges, drop, add, count)
            if new_cost < current - tolerance(current):
                edges, current, improved = candidate, new_cost, True
                break
            failed.add(h)  # the same move on the same pieces would give the same tree
        if not improved:
            break
    return edges, work
