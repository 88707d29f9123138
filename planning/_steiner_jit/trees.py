"""Trees for the Steiner search (compiled with numba): pruning, MST polish, and the constructions
(shortest-path heuristic, average distance heuristic, exact Dreyfus-Wagner).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from planning._steiner_jit.paths import (
    NOT_QUEUED,
    SETTLED,
    append_path,
    cost,
    dijkstra_from,
    heap_offer,
    heap_pop,
    improve_from,
    tolerance,
    trace_into,
)

# Nearest subtrees remembered per node by the average distance heuristic.
_KEPT = 6


@njit(cache=True)
def incidence(edges, n):
    """Per node, the ids of its edges: ``incident[start[x]:start[x + 1]]`` (CSR layout)."""
    m = edges.shape[0]
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(m):
        start[edges[i, 0] + 1] += 1
        start[edges[i, 1] + 1] += 1
    for x in range(n):
        start[x + 1] += start[x]
    fill = start[:-1].copy()
    incident = np.empty(2 * m, dtype=np.int64)
    for i in range(m):
        for x in (edges[i, 0], edges[i, 1]):
            incident[fill[x]] = i
            fill[x] += 1
    return start, incident


@njit(cache=True)
def prune(edges, is_term):
    """Drop non-terminal leaves until none is left; they only add cost."""
    n = is_term.shape[0]
    m = edges.shape[0]
    start, incident = incidence(edges, n)
    deg = np.diff(start)
    alive = np.ones(m, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    top = 0
    for x in range(n):
        if deg[x] == 1 and not is_term[x]:
            stack[top] = x
            top += 1
    while top > 0:
        top -= 1
        x = stack[top]
        if deg[x] != 1:
            continue
        for k in range(start[x], start[x + 1]):
            e = incident[k]
            if alive[e]:
                alive[e] = False
                deg[x] = 0
                y = edges[e, 0] if edges[e, 1] == x else edges[e, 1]
                deg[y] -= 1
                if deg[y] == 1 and not is_term[y]:
                    stack[top] = y
                    top += 1
                break
    return edges[alive]


@njit(cache=True)
def mst_prune(indptr, indices, data, nodes, is_term):
    """MST (Prim) of the subgraph induced by ``nodes``, pruned; ``ok`` False if disconnected."""
    n = indptr.shape[0] - 1
    inset = np.zeros(n, dtype=np.bool_)
    count = 0
    for x in nodes:
        if not inset[x]:
            inset[x] = True
            count += 1
    best = np.full(n, np.inf)
    via = np.full(n, -1, dtype=np.int64)
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, NOT_QUEUED, dtype=np.int64)
    out = np.empty((max(count - 1, 0), 2), dtype=np.int64)
    first = nodes[0]
    best[first] = 0.0
    size = heap_offer(heap, pos, best, 0, first)
    k = 0
    while size > 0:
        v = heap[0]
        size = heap_pop(heap, pos, best, size)
        if via[v] >= 0:
            out[k, 0] = via[v]
            out[k, 1] = v
            k += 1
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if inset[u] and pos[u] != SETTLED and data[e] < best[u]:
                best[u] = data[e]
                via[u] = v
                size = heap_offer(heap, pos, best, size, u)
    if k != count - 1:
        return out, False
    return prune(out, is_term), True


@njit(cache=True)
def polish(indptr, indices, data, edges, is_term):
    """MST of the induced subgraph then pruning, repeated while it lowers the cost."""
    if edges.shape[0] == 0:
        return edges
    current = cost(indptr, indices, data, edges)
    while True:
        better, ok = mst_prune(indptr, indices, data, edges.ravel(), is_term)
        if not ok:
            return edges
        new_cost = cost(indptr, indices, data, better)
        if new_cost >= current - tolerance(current):
            return better if new_cost <= current else edges
        edges = better
        current = new_cost


# --- constructions -------------------------------------------------------------------------------


@njit(cache=True)
def shortest_path_heuristic(rows_dist, rows_pred, term_pos, root):
    """Takahashi-Matsuyama: grow a tree from ``root`` by the path to the nearest terminal left.

    ``rows_dist`` is (n, |T|), node to terminal; ``rows_pred`` is (|T|, n), each terminal's
    shortest-path tree.
    """
    n, t_count = rows_dist.shape
    in_tree = np.zeros(n, dtype=np.bool_)
    in_tree[root] = True
    done = np.zeros(t_count, dtype=np.bool_)
    if term_pos[root] >= 0:
        done[term_pos[root]] = True
    near = rows_dist[root].copy()
    near_node = np.full(t_count, root, dtype=np.int64)
    for t in range(t_count):
        if done[t]:
            near[t] = np.inf
    out = np.empty((n, 2), dtype=np.int64)
    count = 0
    path = np.empty(n + 1, dtype=np.int64)
    while True:
        k = np.argmin(near)
        if not near[k] < np.inf:
            break
        length = trace_into(rows_pred[k], near_node[k], path)
        last = 0
        for i in range(length):  # ties may make the path touch the tree twice: keep its end
            if in_tree[path[i]]:
                last = i
        for i in range(last, length - 1):
            out[count, 0] = path[i]
            out[count, 1] = path[i + 1]
            count += 1
        for i in range(last + 1, length):
            x = path[i]
            in_tree[x] = True
            if term_pos[x] >= 0:
                done[term_pos[x]] = True
                near[term_pos[x]] = np.inf
            for t in range(t_count):
                if not done[t] and rows_dist[x, t] < near[t]:
                    near[t] = rows_dist[x, t]
                    near_node[t] = x
    return out[:count].copy()


@njit(cache=True)
def sph_costs(indptr, indices, data, rows_dist, rows_pred, term_pos, roots):
    """Cost of the shortest-path heuristic's tree from each root, in one call."""
    out = np.empty(roots.shape[0])
    for i in range(roots.shape[0]):
        edges = shortest_path_heuristic(rows_dist, rows_pred, term_pos, roots[i])
        out[i] = cost(indptr, indices, data, edges)
    return out


@njit(cache=True)
def _recompute_nearest(dist, alive, x, top_id, top_val, known):
    """Exact nearest subtrees of node ``x`` from its distances ``dist`` to every subtree."""
    top_val[x, :] = np.inf
    top_id[x, :] = 0
    filled = 0
    for c in range(dist.shape[0]):
        if not alive[c]:
            continue
        d = dist[c]
        if filled == _KEPT and not d < top_val[x, _KEPT - 1]:
            continue
        i = min(filled, _KEPT - 1)
        while i > 0 and top_val[x, i - 1] > d:
            top_val[x, i] = top_val[x, i - 1]
            top_id[x, i] = top_id[x, i - 1]
            i -= 1
        top_val[x, i] = d
        top_id[x, i] = c
        filled = min(filled + 1, _KEPT)
    known[x] = filled


@njit(cache=True)
def average_distance_heuristic(
    indptr,
    indices,
    data,
    rows_dist,
    cols_dist,
    rows_pred,
    terminals,
    hub_share,
):
    """Rayward-Smith's heuristic: join the two nearest subtrees through the best-placed node.

    A node is placed well when its distances to its nearest subtrees, averaged, are small
    (min of d1 + d2 and (d1 + d2 + d3) / hub_share). Each node keeps its few nearest subtrees,
    of which a prefix is known exact: a merge updates every node in place, and only the nodes
    left with fewer than three known are recomputed from the full distance table. The table is
    kept as (subtree, node), so that a merge writes contiguous rows; ``rows_dist`` (node,
    terminal) serves the first pass over every node.
    """
    n, t_count = rows_dist.shape
    dist = cols_dist.copy()
    pred = rows_pred.copy()
    owner = np.full(n, -1, dtype=np.int64)
    for i in range(t_count):
        owner[terminals[i]] = i
    alive = np.ones(t_count, dtype=np.bool_)
    n_alive = t_count
    top_id = np.zeros((n, _KEPT), dtype=np.int64)
    top_val = np.full((n, _KEPT), np.inf)
    known = np.zeros(n, dtype=np.int64)
    for x in range(n):
        _recompute_nearest(rows_dist[x], alive, x, top_id, top_val, known)
    out = np.empty((2 * n, 2), dtype=np.int64)
    count = 0
    path = np.empty(n + 1, dtype=np.int64)
    added = np.zeros(n, dtype=np.bool_)
    merged = np.empty(n)
    new_vals = np.empty(_KEPT + 1)
    new_ids = np.empty(_KEPT + 1, dtype=np.int64)
    for _ in range(t_count - 1):
        v = 0
        best = np.inf
        for x in range(n):
            two = top_val[x, 0] + top_val[x, 1]
            score = min(two, (two + top_val[x, 2]) / hub_share)
            if score < best:
                best = score
                v = x
        a = top_id[v, 0]
        b = top_id[v, 1]
        added[:] = False
        for c in (a, b):
            # Walk from v along c's shortest-path tree until a node of subtree c.
            length = 0
            x = v
            while True:
                path[length] = x
                length += 1
                if owner[x] == c or pred[c, x] < 0:
                    break
                x = pred[c, x]
            out, count = append_path(out, count, path, length)
            for i in range(length):
                added[path[i]] = True
        merged_pred = pred[a].copy()
        for x in range(n):
            merged[x] = dist[a, x]
            if dist[b, x] < merged[x]:
                merged[x] = dist[b, x]
                merged_pred[x] = pred[b, x]
        fresh = np.flatnonzero(added & (owner != a) & (owner != b))
        improve_from(indptr, indices, data, merged, merged_pred, fresh)
        dist[a] = merged
        dist[b] = np.inf
        pred[a] = merged_pred
        for x in range(n):
            if owner[x] == b or (added[x] and owner[x] != a):
                owner[x] = a
        alive[b] = False
        n_alive -= 1
        # Dropping a and b from an exact prefix leaves it exact for the other subtrees; a goes
        # back in when it is no farther than the old last known entry, beyond which every
        # untracked subtree lies.
        for x in range(n):
            kx = known[x]
            old_last = top_val[x, kx - 1] if kx > 0 else np.inf
            hit = 0
            for i in range(kx):
                if top_id[x, i] == a or top_id[x, i] == b:
                    hit += 1
            back = merged[x] <= old_last
            if hit == 0 and not merged[x] < old_last:
                continue
            filled = 0
            for i in range(kx):
                if top_id[x, i] != a and top_id[x, i] != b:
                    new_vals[filled] = top_val[x, i]
                    new_ids[filled] = top_id[x, i]
                    filled += 1
            if back:
                i = filled
                while i > 0 and new_vals[i - 1] > merged[x]:
                    new_vals[i] = new_vals[i - 1]
                    new_ids[i] = new_ids[i - 1]
                    i -= 1
                new_vals[i] = merged[x]
                new_ids[i] = a
                filled += 1
            filled = min(filled, _KEPT)
            top_val[x, :] = np.inf
            top_val[x, :filled] = new_vals[:filled]
            top_id[x, :filled] = new_ids[:filled]
            known[x] = filled
            if filled < min(3, n_alive):
                _recompute_nearest(dist[:, x], alive, x, top_id, top_val, known)
    return out[:count].copy()


@njit(cache=True)
def _popcount(x):
    count = 0
    while x:
        x &= x - 1
        count += 1
    return count


@njit(cache=True)
def dreyfus_wagner(indptr, indices, data, cols_dist, rows_pred, terminals):
    """Exact tree for few terminals (Dreyfus-Wagner), one seeded Dijkstra per terminal subset."""
    n = indptr.shape[0] - 1
    k = terminals.shape[0] - 1
    full = (1 << k) - 1
    value = np.full((full + 1, n), np.inf)
    came = np.full((full + 1, n), -1, dtype=np.int64)
    split = np.zeros((full + 1, n), dtype=np.int64)
    for i in range(k):
        value[1 << i] = cols_dist[i + 1]
    for size in range(2, k + 1):
        for subset in range(1, full + 1):
            if _popcount(subset) != size:
                continue
            low = subset & -subset
            best = np.full(n, np.inf)
            part = (subset - 1) & subset
            while part:  # proper non-empty parts holding the lowest bit: each split counted once
                if part & low:
                    other = subset ^ part
                    for x in range(n):
                        joined = value[part, x] + value[other, x]
                        if joined < best[x]:
                            best[x] = joined
                            split[subset, x] = part
                part = (part - 1) & subset
            came[subset] = dijkstra_from(indptr, indices, data, best, np.inf)
            value[subset] = best
    out = np.empty((2 * n, 2), dtype=np.int64)
    count = 0
    path = np.empty(n + 1, dtype=np.int64)
    stack_set = np.empty(2 * k + 2, dtype=np.int64)
    stack_node = np.empty(2 * k + 2, dtype=np.int64)
    stack_set[0] = full
    stack_node[0] = terminals[0]
    top = 1
    while top > 0:
        top -= 1
        subset = stack_set[top]
        v = stack_node[top]
        if _popcount(subset) == 1:
            i = 0
            while (1 << i) != subset:
                i += 1
            length = trace_into(rows_pred[i + 1], v, path)
            out, count = append_path(out, count, path, length)
            continue
        length = trace_into(came[subset], v, path)
        out, count = append_path(out, count, path, length)
        x = path[length - 1]
        part = split[subset, x]
        stack_set[top] = part
        stack_node[top] = x
        stack_set[top + 1] = subset ^ part
        stack_node[top + 1] = x
        top += 2
    return out[:count].copy()
