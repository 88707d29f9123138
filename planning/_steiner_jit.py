"""Compiled kernels of the Steiner search (internal to `planning.steiner`).

The search spends its time in many small steps (a Dijkstra limited to a few hops, the MST of a
tree's nodes, a walk along a key path); as numpy calls each step cost more in call overhead than
in work, which made the search 20 times slower than networkx's single-pass Mehlhorn on graphs of
a hundred nodes. numba compiles these loops once (cached on disk) and runs them at C speed.

Conventions: a graph is a symmetric CSR triple ``(indptr, indices, data)`` with sorted column
indices and positive weights; a tree or path is an ``(m, 2)`` int64 array of edges; predecessor
arrays hold -1 at a source and at unreached nodes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Improvements smaller than this share of the cost are float noise, not progress.
_RELATIVE_TOLERANCE = 1e-9
# Nearest subtrees remembered per node by the average distance heuristic.
_KEPT = 6
# Heap slot of a node never queued, and of a node settled.
_OUT = -1
_DONE = -2


@njit(cache=True)
def tolerance(cost: float) -> float:
    """The smallest improvement of ``cost`` that counts."""
    return _RELATIVE_TOLERANCE * max(1.0, abs(cost))


# --- heap and shortest paths ---------------------------------------------------------------------


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
def _pop(heap, pos, key, size):
    """Remove the node of least key (read it from ``heap[0]`` first); return the new size."""
    pos[heap[0]] = _DONE
    size -= 1
    if size > 0:
        heap[0] = heap[size]
        _sift_down(heap, pos, key, 0, size)
    return size


@njit(cache=True)
def _offer(heap, pos, key, size, v):
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
        size = _pop(heap, pos, dist, size)
        d = dist[v]
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            nd = d + data[e]
            if nd < dist[u] and nd <= limit and pos[u] != _DONE:
                dist[u] = nd
                pred[u] = v
                size = _offer(heap, pos, dist, size, u)


@njit(cache=True)
def dijkstra_from(indptr, indices, data, dist, limit):
    """Shortest distances from the finite entries of ``dist`` (updated in place), up to ``limit``.

    Seeded values let one call serve a set of sources (zeros) and the Dreyfus-Wagner step
    (arbitrary values). Returns the predecessors.
    """
    n = indptr.shape[0] - 1
    pred = np.full(n, -1, dtype=np.int64)
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, _OUT, dtype=np.int64)
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
    pos = np.full(n, _OUT, dtype=np.int64)
    size = 0
    for s in sources:
        dist[s] = 0.0
        pred[s] = -1
        size = _offer(heap, pos, dist, size, s)
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
def sph_costs(indptr, indices, data, rows_dist, rows_pred, term_pos, roots):
    """Cost of the shortest-path heuristic's tree from each root, in one call."""
    out = np.empty(roots.shape[0])
    for i in range(roots.shape[0]):
        edges = shortest_path_heuristic(rows_dist, rows_pred, term_pos, roots[i])
        out[i] = cost(indptr, indices, data, edges)
    return out


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
def _trace(pred, start, out):
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
def _append_path(buffer, count, path, length):
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


# --- trees: pruning, MST polish -----------------------------------------------------------------


@njit(cache=True)
def _incidence(edges, n):
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
    start, incident = _incidence(edges, n)
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
    pos = np.full(n, _OUT, dtype=np.int64)
    out = np.empty((max(count - 1, 0), 2), dtype=np.int64)
    first = nodes[0]
    best[first] = 0.0
    size = _offer(heap, pos, best, 0, first)
    k = 0
    while size > 0:
        v = heap[0]
        size = _pop(heap, pos, best, size)
        if via[v] >= 0:
            out[k, 0] = via[v]
            out[k, 1] = v
            k += 1
        for e in range(indptr[v], indptr[v + 1]):
            u = indices[e]
            if inset[u] and pos[u] != _DONE and data[e] < best[u]:
                best[u] = data[e]
                via[u] = v
                size = _offer(heap, pos, best, size, u)
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
        length = _trace(rows_pred[k], near_node[k], path)
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
            out, count = _append_path(out, count, path, length)
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
            length = _trace(rows_pred[i + 1], v, path)
            out, count = _append_path(out, count, path, length)
            continue
        length = _trace(came[subset], v, path)
        out, count = _append_path(out, count, path, length)
        x = path[length - 1]
        part = split[subset, x]
        stack_set[top] = part
        stack_node[top] = x
        stack_set[top + 1] = subset ^ part
        stack_node[top + 1] = x
        top += 2
    return out[:count].copy()


# --- local search --------------------------------------------------------------------------------


@njit(cache=True)
def _tree(edges, n, is_term):
    """Adjacency, parent and Euler-tour interval of a tree, rooted at one of its terminals."""
    m = edges.shape[0]
    ptr, incident = _incidence(edges, n)
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
def _replace(edges, drop_keys, n, add, add_count):
    """The edges not in ``drop_keys`` (min * n + max), followed by ``add[:add_count]``."""
    out = np.empty((edges.shape[0] + add_count, 2), dtype=np.int64)
    k = 0
    for i in range(edges.shape[0]):
        u, v = edges[i, 0], edges[i, 1]
        if min(u, v) * n + max(u, v) in drop_keys:
            continue
        out[k, 0] = u
        out[k, 1] = v
        k += 1
    for i in range(add_count):
        out[k] = add[i]
        k += 1
    return out[:k]


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
            length = _trace(pred, end, path)
            add = np.empty((length, 2), dtype=np.int64)
            add, count = _append_path(add, 0, path, length)
            drop = {np.int64(-1)}
            for i in range(last):
                drop.add(min(kp[i], kp[i + 1]) * n + max(kp[i], kp[i + 1]))
            candidate = polish(indptr, indices, data, _replace(edges, drop, n, add, count), is_term)
            new_cost = cost(indptr, indices, data, candidate)
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
                length = _trace(preds[a], reach[a, b], path)
                add, count = _append_path(add, count, path, length)
            drop = {np.int64(-1)}
            for i in range(k):
                p = mine[i]
                for q in range(offsets[p], offsets[p + 1] - 1):
                    drop.add(min(flat[q], flat[q + 1]) * n + max(flat[q], flat[q + 1]))
            candidate = polish(indptr, indices, data, _replace(edges, drop, n, add, count), is_term)
            new_cost = cost(indptr, indices, data, candidate)
            if new_cost < current - tolerance(current):
                edges, current, improved = candidate, new_cost, True
                break
            failed.add(h)  # the same move on the same pieces would give the same tree
        if not improved:
            break
    return edges, work
