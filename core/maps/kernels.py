"""Per-pixel mean and spread of a forest's trees, without a trees × pixels array.

For every pixel and tree t, with v_t the tree's leaf value on the model's scale and w_t
that value back-transformed to target units, one pass over the trees accumulates:

* the sum of v_t in tree order; divided by the number of trees T it is the forest's
  prediction exactly as scikit-learn computes it (the same additions in the same order);
* the sums of (w_t − c) and (w_t − c)², with c the first tree's w at that pixel (a
  per-pixel shift, so the variance suffers no cancellation); the spread of the per-tree
  predictions is sd = sqrt((S2 − S1² / T) / (T − 1)), the ddof = 1 definition of the
  ``sd`` column of ``evaluate-model``.

Classification forests average the trees' class probabilities as ``predict_proba`` does.

Two implementations give the same numbers (tested):

* compiled (numba, when installed): groups of neighbouring pixels go down a tree together
  for as long as the group's box (per feature, the minimum and maximum over its pixels)
  lies on one side of every split: then every pixel of the group takes that way, so the
  node the group reaches is exactly the node each of its pixels reaches. Groups of 128
  rows descend first, then their groups of 16, then the pixels walk on from there, eight
  at a time (eight independent chains the processor overlaps); a node's two children sit
  side by side so that the next node is ``left`` or ``left + 1``. The order of the rows
  changes only the speed: callers pass map pixels in Z order (:func:`z_order`), so that
  consecutive rows are neighbours on the map and most of a tree is walked once per group;
* fallback (scikit-learn and numpy only, e.g. a QGIS install without numba): the leaves
  of each tree from scikit-learn's own ``apply``, then the same sums with numpy.
"""

import functools
import warnings

import numpy as np

try:
    with warnings.catch_warnings():  # Debian's llvmlite warns of a deprecated importlib call (QGIS logs it)
        warnings.filterwarnings("ignore", message="path is deprecated", category=DeprecationWarning)
        import numba
except ImportError:  # the fallback below needs only scikit-learn and numpy
    numba = None

#: Pixels handled per pass over all trees.
SUPER_CHUNK = 16384
#: Rows of the large and the small groups that descend a tree together (multiples of 8).
LARGE_GROUP, SMALL_GROUP = 128, 16
#: Bits of a node code that hold the feature index (the rest holds the left child).
FEATURE_BITS = 16


class PackedForest:
    """A fitted scikit-learn forest as flat node arrays, ready for the kernels.

    Built from a ``RandomForestRegressor`` (or subclass) or ``RandomForestClassifier``.
    back_transform: function of an array of model-scale values giving target units (for
    the spread of regression forests; identity by default).

    Layout: each tree's nodes are renumbered breadth first so that a node's two children
    are neighbours, ``left`` and ``left + 1``; the next node is ``left + (x > threshold)``.
    A leaf points to itself with an infinite threshold, so a pixel that reached its leaf
    stays there. ``value`` holds each node's regression value (model scale; nodes × 1) or
    class probabilities (nodes × classes); ``back`` the back-transformed regression value
    (empty for classification). For the compiled kernel, ``code`` packs left child and
    feature into one integer and ``threshold32`` holds each threshold rounded down to
    float32: features are float32 (as scikit-learn casts them), and for a float32 x,
    x <= t exactly when x <= the largest float32 not above t, so every decision is
    scikit-learn's.
    """

    def __init__(self, forest, back_transform=None):
        self.estimators = list(forest.estimators_)
        self.n_features = int(forest.n_features_in_)
        if self.n_features >= 1 << FEATURE_BITS:
            raise ValueError(f"forests of more than {(1 << FEATURE_BITS) - 1} features are not supported")
        self.classification = hasattr(forest, "classes_")
        trees = [estimator.tree_ for estimator in self.estimators]
        counts = np.array([tree.node_count for tree in trees], dtype=np.int64)
        self.roots = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        offsets = np.repeat(self.roots, counts)  # all trees' nodes in one numbering, tree after tree
        left, right = (np.concatenate([getattr(tree, side) for tree in trees]).astype(np.int64, copy=False)
                       for side in ("children_left", "children_right"))
        left, right = np.where(left >= 0, left + offsets, -1), np.where(right >= 0, right + offsets, -1)
        order = _breadth_first(left, right, self.roots, np.repeat(np.arange(len(trees)), counts))
        nodes = np.arange(len(order))
        new = np.empty(len(order), dtype=np.int64)
        new[order] = nodes
        self.new_index = np.split(new, self.roots[1:])  # per tree: scikit-learn's node -> ours
        left = left[order]
        internal = left >= 0
        feature = np.concatenate([tree.feature for tree in trees]).astype(np.int64, copy=False)[order]
        threshold = np.where(internal, np.concatenate([tree.threshold for tree in trees])[order], np.inf)
        self.code = (np.where(internal, new[left], nodes) << FEATURE_BITS) | np.where(internal, feature, 0)
        self.threshold32 = threshold.astype(np.float32)
        above = self.threshold32.astype(np.float64) > threshold
        self.threshold32[above] = np.nextafter(self.threshold32[above], np.float32(-np.inf))
        values = np.concatenate([tree.value[:, 0, :] for tree in trees]).astype(np.float64)
        self.value = np.ascontiguousarray(self._leaf_values(values[order]))
        self.back = np.empty(0)
        if not self.classification:
            regression = self.value[:, 0]
            self.back = np.ascontiguousarray(back_transform(regression) if back_transform else regression,
                                             dtype=np.float64)

    #: The arrays the compiled kernel reads (see :meth:`from_arrays`).
    ARRAYS = ("code", "threshold32", "roots", "value", "back")

    @classmethod
    def from_arrays(cls, arrays, n_features, classification):
        """A packed forest from its :data:`ARRAYS` (e.g. as kept by :mod:`.modelcache`), without
        its scikit-learn trees: only the compiled kernel can run it. ValueError unless the
        arrays fit together: every feature index below ``n_features``, every child after its
        node and inside the arrays (so that every walk ends on a leaf), leaves pointing to
        themselves."""
        forest = cls.__new__(cls)
        forest.estimators, forest.new_index = None, None
        forest.n_features, forest.classification = int(n_features), bool(classification)
        for name in cls.ARRAYS:
            setattr(forest, name, np.ascontiguousarray(arrays[name]))
        code, threshold, roots, value, back = (getattr(forest, name) for name in cls.ARRAYS)
        n = len(code)
        shapes = (code.dtype == np.int64 and threshold.dtype == np.float32 and roots.dtype == np.int64
                  and value.dtype == np.float64 and back.dtype == np.float64 and code.ndim == 1 and n > 0
                  and threshold.shape == (n,) and value.ndim == 2 and value.shape[0] == n and value.shape[1] > 0
                  and roots.ndim == 1
                  and back.shape == ((0,) if forest.classification else (n,)) and len(roots) > 0)
        if not shapes:
            raise ValueError("the packed forest's arrays do not fit together (types or shapes)")
        leaf = threshold == np.inf
        child = code >> FEATURE_BITS
        ahead = child - np.arange(n)  # a leaf points to itself, other nodes to later ones
        inside = (roots.min() >= 0 and roots.max() < n and np.array_equal(ahead == 0, leaf) and ahead.min() >= 0
                  and (child + ~leaf).max() < n  # a node's children: child and child + 1
                  and (code & ((1 << FEATURE_BITS) - 1)).max() < forest.n_features)
        if not inside:
            raise ValueError("the packed forest's arrays do not fit together (a node points outside them)")
        return forest

    def _leaf_values(self, value):
        """Per node: the regression value, or class probabilities as predict_proba computes them."""
        if not self.classification:
            return value
        normalizer = value.sum(axis=1)[:, None]
        normalizer[normalizer == 0.0] = 1.0
        return value / normalizer

    @property
    def n_trees(self):
        return len(self.roots)


def _breadth_first(children_left, children_right, roots, tree_of):
    """Node ids of each tree in breadth-first order (tree after tree), the two children of a
    node side by side. Node ids count over all trees; ``tree_of[node]`` is a node's tree."""
    levels, frontier = [roots], roots
    while frontier.size:
        internal = frontier[children_left[frontier] >= 0]
        frontier = np.stack([children_left[internal], children_right[internal]], axis=1).ravel()
        levels.append(frontier)
    nodes = np.concatenate(levels)
    return nodes[np.argsort(tree_of[nodes], kind="stable")]


def forest_statistics(packed, X, compiled=None):
    """Per-pixel forest statistics for the rows of ``X`` (pixels × features, float32).

    Regression: (prediction on the model scale, sd of the back-transformed per-tree
    predictions). Classification: (class probabilities (pixels × classes), None).
    compiled: force the numba kernel (True) or the fallback (False); default: numba if
    installed.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2 or X.shape[1] != packed.n_features:
        raise ValueError(f"the forest takes {packed.n_features} features, not {X.shape[-1]}")
    use_numba = numba is not None if compiled is None else compiled
    if use_numba and numba is None:
        raise ImportError("numba is not installed")
    if not use_numba and packed.estimators is None:
        raise ValueError("a packed forest without its scikit-learn trees runs only in the compiled kernel")
    arrays = (packed.code, packed.threshold32, packed.roots, packed.value, packed.back)
    sums, s1, s2 = _forest_kernel(X, *arrays, SUPER_CHUNK) if use_numba else _fallback(packed, X)
    if packed.classification:
        return sums / packed.n_trees, None
    return sums[:, 0] / packed.n_trees, _spread(s1, s2, packed.n_trees)


def load_compiled():
    """Load the compiled kernel from numba's cache (about 0.2 s; on the first use after an
    installation or update it compiles, about a minute), as the first prediction would."""
    if numba is not None:
        _forest_kernel(np.zeros((1, 1), dtype=np.float32), np.zeros(1, dtype=np.int64),
                       np.full(1, np.inf, dtype=np.float32), np.zeros(1, dtype=np.int64), np.zeros((1, 1)),
                       np.zeros(1), SUPER_CHUNK)


@functools.lru_cache(maxsize=8)
def z_order(rows, columns):
    """Flat indices of a rows x columns window in Z (Morton) order: runs of 4, 16, 64... are squares."""
    row, column = np.mgrid[0:rows, 0:columns]
    key = np.zeros((rows, columns), dtype=np.int64)
    for bit in range(max(rows, columns).bit_length()):
        key |= ((column >> bit) & 1) << (2 * bit)
        key |= ((row >> bit) & 1) << (2 * bit + 1)
    order = np.argsort(key.ravel(), kind="stable")
    order.flags.writeable = False
    return order


def _spread(s1, s2, n):
    """sd with ddof = 1 from shifted sums (0 trees' spread is undefined: NaN for one tree)."""
    if n < 2:
        return np.full(s1.shape, np.nan)
    variance = (s2 - s1 * s1 / n) / (n - 1)
    return np.sqrt(np.maximum(variance, 0.0))


# fallback: scikit-learn's apply + numpy


def _fallback(packed, X):
    """(sums of leaf values (pixels × outputs), S1, S2) with scikit-learn's apply and numpy."""
    sums = np.zeros((len(X), packed.value.shape[1]))
    s1 = np.zeros(len(X))
    s2 = np.zeros(len(X))
    shift = None
    for estimator, index in zip(packed.estimators, packed.new_index):
        leaves = index[estimator.tree_.apply(X)]
        sums += packed.value[leaves]
        if packed.back.size:
            back = packed.back[leaves]
            shift = back if shift is None else shift
            difference = back - shift
            s1 += difference
            s2 += difference * difference
    return sums, s1, s2


# compiled: numba


def _step(X, row, node, code, threshold):
    """The next node of pixel ``row`` from ``node`` (the same node once on a leaf).

    Written as a branch: neighbouring pixels of a map mostly take the same way, so the
    processor predicts it and runs ahead; the eight interleaved walks keep it busy when
    they do not.
    """
    packed = code[node]
    following = packed >> FEATURE_BITS
    if X[row, packed & 0xFFFF] > threshold[node]:
        following += 1
    return following


def _on_leaf(node, threshold):
    return threshold[node] == np.inf


def _walk(X, start, root, code, threshold):
    """The leaves of pixels start..start+7 in one tree: eight walks interleaved.

    The eight chains of dependent loads are independent of each other, so the processor
    overlaps them; every two steps the walk stops if all eight sit on their leaves.
    """
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = root
    while True:
        for _ in range(2):
            a0 = step(X, start, a0, code, threshold)
            a1 = step(X, start + 1, a1, code, threshold)
            a2 = step(X, start + 2, a2, code, threshold)
            a3 = step(X, start + 3, a3, code, threshold)
            a4 = step(X, start + 4, a4, code, threshold)
            a5 = step(X, start + 5, a5, code, threshold)
            a6 = step(X, start + 6, a6, code, threshold)
            a7 = step(X, start + 7, a7, code, threshold)
        if (on_leaf(a0, threshold) and on_leaf(a1, threshold) and on_leaf(a2, threshold)
                and on_leaf(a3, threshold) and on_leaf(a4, threshold) and on_leaf(a5, threshold)
                and on_leaf(a6, threshold) and on_leaf(a7, threshold)):
            return a0, a1, a2, a3, a4, a5, a6, a7


def _walk_one(X, row, root, code, threshold):
    """The leaf of one pixel (the pixels left over after the groups of eight)."""
    node = root
    while not on_leaf(node, threshold):
        node = step(X, row, node, code, threshold)
    return node


def _add_leaves(leaves, first, last, first_tree, value, back, sums, s1, s2, shift):
    """Add one tree's leaves of rows first..last-1 to their sums (the first tree sets each row's shift)."""
    for c in range(value.shape[1]):
        for p in range(first, last):
            sums[p, c] += value[leaves[p], c]
    if back.shape[0]:
        for p in range(first, last):
            leaf_value = back[leaves[p]]
            if first_tree:
                shift[p] = leaf_value
            difference = leaf_value - shift[p]
            s1[p] += difference
            s2[p] += difference * difference


def _boxes(X, first, count, size):
    """(lowest, highest) value of each feature in each of ``count`` groups of ``size`` rows from row ``first``."""
    low = np.empty((count, X.shape[1]), dtype=np.float32)
    high = np.empty((count, X.shape[1]), dtype=np.float32)
    for g in range(count):
        low[g] = X[first + size * g]
        high[g] = X[first + size * g]
        for row in range(first + size * g + 1, first + size * (g + 1)):
            for f in range(X.shape[1]):
                low[g, f] = min(low[g, f], X[row, f])
                high[g, f] = max(high[g, f], X[row, f])
    return low, high


def _merge_boxes(low, high, ratio):
    """The boxes of groups of ``ratio`` consecutive boxes."""
    count = low.shape[0] // ratio
    merged_low = np.empty((count, low.shape[1]), dtype=np.float32)
    merged_high = np.empty((count, low.shape[1]), dtype=np.float32)
    for g in range(count):
        merged_low[g] = low[ratio * g]
        merged_high[g] = high[ratio * g]
        for member in range(ratio * g + 1, ratio * (g + 1)):
            for f in range(low.shape[1]):
                merged_low[g, f] = min(merged_low[g, f], low[member, f])
                merged_high[g, f] = max(merged_high[g, f], high[member, f])
    return merged_low, merged_high


def _box_step(low, high, g, node, code, threshold):
    """The next node of group ``g`` from ``node``: a child if the whole box goes there, else ``node``.

    Without a branch (the way a box goes is hard to predict): on a leaf (infinite threshold)
    every box "goes left", to the leaf itself.
    """
    packed = code[node]
    feature = packed & 0xFFFF
    right = low[g, feature] > threshold[node]
    decided = right | (high[g, feature] <= threshold[node])
    return node + ((packed >> FEATURE_BITS) + right - node) * decided


def _descend(low, high, starts, code, threshold):
    """Per group, the deepest node its whole box reaches from ``starts[g]`` (eight groups interleaved)."""
    count = low.shape[0]
    ends = np.empty(count, dtype=np.int64)
    for first in range(0, count, 8):
        # the last batch repeats its last group rather than branch on the batch size
        g0, g1, g2, g3 = first, min(first + 1, count - 1), min(first + 2, count - 1), min(first + 3, count - 1)
        g4, g5, g6, g7 = min(first + 4, count - 1), min(first + 5, count - 1), min(first + 6, count - 1), \
            min(first + 7, count - 1)
        a0, a1, a2, a3 = starts[g0], starts[g1], starts[g2], starts[g3]
        a4, a5, a6, a7 = starts[g4], starts[g5], starts[g6], starts[g7]
        while True:
            b0, b1, b2, b3, b4, b5, b6, b7 = a0, a1, a2, a3, a4, a5, a6, a7
            for _ in range(2):
                a0 = box_step(low, high, g0, a0, code, threshold)
                a1 = box_step(low, high, g1, a1, code, threshold)
                a2 = box_step(low, high, g2, a2, code, threshold)
                a3 = box_step(low, high, g3, a3, code, threshold)
                a4 = box_step(low, high, g4, a4, code, threshold)
                a5 = box_step(low, high, g5, a5, code, threshold)
                a6 = box_step(low, high, g6, a6, code, threshold)
                a7 = box_step(low, high, g7, a7, code, threshold)
            if (a0 == b0 and a1 == b1 and a2 == b2 and a3 == b3 and a4 == b4 and a5 == b5 and a6 == b6
                    and a7 == b7):
                break
        ends[g0], ends[g1], ends[g2], ends[g3] = a0, a1, a2, a3
        ends[g4], ends[g5], ends[g6], ends[g7] = a4, a5, a6, a7
    return ends


def _walk_rows(X, start, stop, node, code, threshold, leaves):
    """leaves[p] of rows start..stop-1, walked from ``node`` eight at a time.

    For the rows after the last whole group (a function of its own: inlined into the group
    loop, the same walks ran 1.5 times slower).
    """
    while start + 8 <= stop:
        leaves[start], leaves[start + 1], leaves[start + 2], leaves[start + 3], leaves[start + 4], \
            leaves[start + 5], leaves[start + 6], leaves[start + 7] = walk(X, start, node, code, threshold)
        start += 8
    for p in range(start, stop):
        leaves[p] = walk_one(X, p, node, code, threshold)


def _forest_loop(X, code, threshold, roots, value, back, super_chunk):
    """(sums of leaf values (pixels × outputs), S1, S2): trees in order for each chunk of pixels."""
    n = X.shape[0]
    sums = np.zeros((n, value.shape[1]))
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    shift = np.zeros(n)
    leaves = np.empty(n, dtype=np.int64)
    ratio = LARGE_GROUP // SMALL_GROUP
    for first in range(0, n, super_chunk):
        last = min(first + super_chunk, n)
        n_large = (last - first) // LARGE_GROUP
        small_low, small_high = boxes(X, first, n_large * ratio, SMALL_GROUP)
        large_low, large_high = merge_boxes(small_low, small_high, ratio)
        grouped = first + n_large * LARGE_GROUP  # the rows after it walk from the root
        for t in range(roots.shape[0]):
            large = descend(large_low, large_high, np.full(n_large, roots[t]), code, threshold)
            small = descend(small_low, small_high, np.repeat(large, ratio), code, threshold)
            for g in range(small.shape[0]):
                for start in range(first + SMALL_GROUP * g, first + SMALL_GROUP * (g + 1), 8):
                    leaves[start], leaves[start + 1], leaves[start + 2], leaves[start + 3], leaves[start + 4], \
                        leaves[start + 5], leaves[start + 6], leaves[start + 7] = walk(X, start, small[g], code,
                                                                                       threshold)
            walk_rows(X, grouped, last, roots[t], code, threshold, leaves)
            add_leaves(leaves, first, last, t == 0, value, back, sums, s1, s2, shift)
    return sums, s1, s2


if numba is not None:
    step = numba.njit(nogil=True, cache=True, inline="always")(_step)
    on_leaf = numba.njit(nogil=True, cache=True, inline="always")(_on_leaf)
    walk = numba.njit(nogil=True, cache=True, inline="always")(_walk)
    walk_one = numba.njit(nogil=True, cache=True, inline="always")(_walk_one)
    add_leaves = numba.njit(nogil=True, cache=True, inline="always")(_add_leaves)
    walk_rows = numba.njit(nogil=True, cache=True)(_walk_rows)
    box_step = numba.njit(nogil=True, cache=True, inline="always")(_box_step)
    boxes = numba.njit(nogil=True, cache=True)(_boxes)
    merge_boxes = numba.njit(nogil=True, cache=True)(_merge_boxes)
    descend = numba.njit(nogil=True, cache=True)(_descend)
    _forest_kernel = numba.njit(nogil=True, cache=True)(_forest_loop)
