/**
 * A persistent (immutable, structurally shared) vector in the style of Clojure's
 * `PersistentVector`: a 32-way trie of full 32-element leaves plus a `tail` of up
 * to 32 elements that have not been pushed into the trie yet.
 *
 * Costs (n = size):
 * - `vecPush`: copies the tail (at most 32 slots); every 32nd push also copies one
 *   path of the trie (log32 n nodes of at most 32 slots). Never O(n), so an append
 *   at length 100,000 costs about the same as at length 100 (budget B2).
 * - `vecGet`: O(log32 n) (at most 4 hops below 1M elements).
 * - `vecTake`: O(log32 n) nodes copied, the rest shared.
 * - `vecPushAll`: O(|xs|) amortized; nodes created during the call are filled in
 *   place (a private "transient"), nodes shared with the input are never touched.
 *
 * A `PVec` is never changed after it is returned: pushing onto a vector that
 * shares structure with another (a fork) never shows in the other. Treat its
 * fields as opaque; read through the functions below.
 */

const BITS = 5;
const WIDTH = 1 << BITS; // 32
const MASK = WIDTH - 1;

/** A trie node: an array of child nodes, or (at the bottom) of up to 32 elements. */
type Node = readonly unknown[];

/**
 * An immutable vector of `T`. Fields are internal: `size` elements in total,
 * `shift` = bits consumed by the root level (5 for a one-level trie),
 * `root` = the trie holding the first `size - tail.length` elements (a multiple of
 * 32), `tail` = the last 1..32 elements (0 only when empty).
 */
export interface PVec<T> {
  readonly size: number;
  readonly shift: number;
  readonly root: Node;
  readonly tail: readonly T[];
  /** Phantom marker so `PVec<A>` and `PVec<B>` stay distinct types. */
  readonly _T?: (t: T) => T;
}

const EMPTY: PVec<never> = Object.freeze({ size: 0, shift: BITS, root: Object.freeze([]) as Node, tail: Object.freeze([]) as readonly never[] });

/** The empty vector (one shared frozen value). */
export const emptyVec = <T>(): PVec<T> => EMPTY as unknown as PVec<T>;

/** Number of elements. O(1). */
export const vecSize = <T>(v: PVec<T>): number => v.size;

const tailOffset = <T>(v: PVec<T>): number => v.size - v.tail.length;

/** The leaf array holding index `i` (caller guarantees `0 <= i < size`). */
const leafFor = <T>(v: PVec<T>, i: number): readonly T[] => {
  if (i >= tailOffset(v)) return v.tail;
  let node: Node = v.root;
  for (let level = v.shift; level > 0; level -= BITS) node = node[(i >>> level) & MASK] as Node;
  return node as readonly T[];
};

/** Element `i` (0-based), or `undefined` when `i` is not an integer in `[0, size)`. O(log32 n). */
export const vecGet = <T>(v: PVec<T>, i: number): T | undefined => {
  if (!Number.isInteger(i) || i < 0 || i >= v.size) return undefined;
  return leafFor(v, i)[i & MASK];
};

/** A path of single-child nodes from `level` down to `leaf`. */
const newPath = (level: number, leaf: Node): Node => (level === 0 ? leaf : [newPath(level - BITS, leaf)]);

/**
 * Inserts the full leaf `leaf` as leaf number `leafIndex` below `node` (at `level`).
 * Nodes in `owned` were created during the current bulk operation and may be
 * written in place; every other node is copied (path copying).
 */
const pushLeaf = (node: Node, level: number, leafIndex: number, leaf: Node, owned: Set<Node> | undefined): Node => {
  const sub = ((leafIndex << BITS) >>> level) & MASK;
  const out: unknown[] = owned?.has(node) ? (node as unknown[]) : node.slice();
  if (level === BITS) {
    out[sub] = leaf;
  } else {
    const child = node[sub] as Node | undefined;
    out[sub] = child === undefined ? ownPath(level - BITS, leaf, owned) : pushLeaf(child, level - BITS, leafIndex, leaf, owned);
  }
  if (owned !== undefined) owned.add(out);
  return out;
};

const ownPath = (level: number, leaf: Node, owned: Set<Node> | undefined): Node => {
  const p = newPath(level, leaf);
  if (owned !== undefined) for (let n: Node = p, l = level; l > 0; l -= BITS, n = n[0] as Node) owned.add(n);
  return p;
};

/** Adds the full tail `leaf` (32 elements) of a vector of `trieSize` trie elements to its trie. */
const addLeaf = (root: Node, shift: number, trieSize: number, leaf: Node, owned: Set<Node> | undefined): { root: Node; shift: number } => {
  const leafIndex = trieSize >>> BITS; // leaves already in the trie
  if (leafIndex === 0) return { root: [leaf], shift };
  // Root overflow: the trie holds 32^(shift/5) leaves when full.
  if (leafIndex === 2 ** shift) {
    const newRoot: Node = [root, ownPath(shift, leaf, owned)];
    if (owned !== undefined) owned.add(newRoot);
    return { root: newRoot, shift: shift + BITS };
  }
  return { root: pushLeaf(root, shift, leafIndex, leaf, owned), shift };
};

/** A new vector with `x` appended. `v` is unchanged. Amortized O(1): copies at most 32 + 32·log32 n slots. */
export const vecPush = <T>(v: PVec<T>, x: T): PVec<T> => {
  if (v.tail.length < WIDTH) {
    const tail = v.tail.slice();
    tail.push(x);
    return { size: v.size + 1, shift: v.shift, root: v.root, tail };
  }
  const { root, shift } = addLeaf(v.root, v.shift, tailOffset(v), v.tail, undefined);
  return { size: v.size + 1, shift, root, tail: [x] };
};

/**
 * A new vector with every element of `xs` appended in order. `v` is unchanged.
 * O(|xs| + log32 n): full leaves go into the trie directly; only nodes created by
 * this call are written in place.
 */
export const vecPushAll = <T>(v: PVec<T>, xs: Iterable<T>): PVec<T> => {
  const owned = new Set<Node>();
  let { root, shift } = v;
  let trieSize = tailOffset(v);
  let tail: T[] | undefined;
  let size = v.size;
  for (const x of xs) {
    if (tail === undefined) tail = v.tail.slice();
    if (tail.length === WIDTH) {
      ({ root, shift } = addLeaf(root, shift, trieSize, tail, owned));
      trieSize += WIDTH;
      tail = [];
    }
    tail.push(x);
    size++;
  }
  return tail === undefined ? v : { size, shift, root, tail };
};

/** A vector holding `xs` in order (a copy: later changes to `xs` do not show). O(|xs|). */
export const vecFrom = <T>(xs: Iterable<T>): PVec<T> => vecPushAll(emptyVec<T>(), xs);

/**
 * Keeps the first `count` elements (a multiple of 32, > 0) of the subtree `node`
 * at `level`: the kept children are shared, only the last one on the cut is copied.
 */
const trimTrie = (node: Node, level: number, count: number): Node => {
  if (level === 0) return node; // a full leaf (count === 32)
  const span = 2 ** level; // elements below one child (32 ** (level / 5))
  const keep = Math.ceil(count / span);
  const out = node.slice(0, keep) as unknown[];
  const lastCount = count - (keep - 1) * span;
  if (lastCount < span) out[keep - 1] = trimTrie(node[keep - 1] as Node, level - BITS, lastCount);
  return out;
};

/**
 * The vector of the first `min(max(n, 0), size)` elements (`n` is truncated to an
 * integer). Shares every untouched node with `v`; copies O(log32 n) nodes.
 */
export const vecTake = <T>(v: PVec<T>, n: number): PVec<T> => {
  const k = Math.max(0, Math.min(Math.trunc(n), v.size));
  if (k === v.size) return v;
  if (k === 0) return emptyVec<T>();
  const toff = tailOffset(v);
  if (k > toff) return { size: k, shift: v.shift, root: v.root, tail: v.tail.slice(0, k - toff) };
  // The new tail is the leaf holding element k-1, cut after it.
  const tailLen = ((k - 1) & MASK) + 1;
  const tail = leafFor(v, k - 1).slice(0, tailLen);
  const trieSize = k - tailLen;
  if (trieSize === 0) return { size: k, shift: BITS, root: EMPTY.root, tail };
  let root = trimTrie(v.root, v.shift, trieSize);
  let shift = v.shift;
  // Collapse single-child roots so the trie stays as shallow as its size needs.
  while (shift > BITS && root.length === 1) {
    root = root[0] as Node;
    shift -= BITS;
  }
  return { size: k, shift, root, tail };
};

/**
 * Iterates elements `[from, to)` in order; bounds are clamped to `[0, size]`
 * (defaults: the whole vector). O(log32 n) to find the first leaf, then O(1) each.
 */
export function* vecIter<T>(v: PVec<T>, from = 0, to: number = v.size): Generator<T, void, undefined> {
  const end = Math.max(0, Math.min(Math.trunc(to), v.size));
  let i = Math.max(0, Math.trunc(from));
  while (i < end) {
    const leaf = leafFor(v, i);
    const leafStart = i - (i & MASK);
    const leafEnd = Math.min(end, leafStart + leaf.length);
    for (; i < leafEnd; i++) yield leaf[i - leafStart] as T;
  }
}

/** A new array of elements `[start, end)`, bounds clamped to `[0, size]`. O(end - start + log32 n). */
export const vecSlice = <T>(v: PVec<T>, start: number, end: number): T[] => {
  const out: T[] = [];
  const e = Math.max(0, Math.min(Math.trunc(end), v.size));
  let i = Math.max(0, Math.trunc(start));
  while (i < e) {
    const leaf = leafFor(v, i);
    const leafStart = i - (i & MASK);
    const leafEnd = Math.min(e, leafStart + leaf.length);
    for (; i < leafEnd; i++) out.push(leaf[i - leafStart] as T);
  }
  return out;
};

/** A new array of every element. O(n). */
export const vecToArray = <T>(v: PVec<T>): T[] => vecSlice(v, 0, v.size);

/** The last element, or `undefined` when empty. O(1). */
export const vecLast = <T>(v: PVec<T>): T | undefined => v.tail[v.tail.length - 1];
