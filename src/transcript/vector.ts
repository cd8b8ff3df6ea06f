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
 *
 * ## Lazy leaves
 *
 * `vecFromLazy` builds a vector whose trie leaves may be *lazy*: a leaf holds a
 * loader instead of its 32 elements, called on the first read that reaches the
 * leaf (`vecGet`, `vecIter`, `vecSlice`, `vecToArray`, and `vecTake` for the leaf
 * it cuts) and memoized; a segment of one leaf may also produce a leaf's first
 * elements alone (`LazyRun.loadRange`: `vecGet` of element j and `vecTake`
 * cutting after it ask for `[0, j]` only, kept for the rest of the leaf). Pushing, `vecTake` below or above a lazy leaf, `vecSize`,
 * `vecLast` and `vecLeafKey` never call a loader: the tail is always
 * materialized. A loader that throws makes that read throw the same value (it is
 * called again on the next read; nothing is memoized on failure). This is how the
 * store loads a long transcript without reading its messages (the loaders read
 * content-addressed chunks); the vector itself does no I/O.
 *
 * Not even the lazy leaves are made up front: each complete group of 32 lazy
 * leaves (1,024 elements) starts as one `LazyBranch`, the bottom trie node above
 * them, which makes its leaf objects on the first traversal that enters it (a
 * read, `vecTake` cutting in it, a push below it; not `vecLeafKey`). A cold load of
 * 100,000 messages thus allocates ~100 branch objects instead of ~3,000 leaves
 * (and their segment states) per lazily loaded list.
 */

const BITS = 5;
const WIDTH = 1 << BITS; // 32
const MASK = WIDTH - 1;

/** A trie node: an array of child nodes, or (at the bottom) of 32 elements. */
type Node = readonly unknown[];

/** The shared state of one lazy segment (`vecFromLazy`): its loader, and its elements while leaves still need them. */
interface SegmentState {
  readonly size: number;
  /** `load(index)` produces the segment; dropped once it did. */
  load: ((segment: number) => readonly unknown[]) | undefined;
  /** `loadRange(index, from, to)` produces elements `[from, to)` of a one-leaf segment (`LazyRun.loadRange`). */
  readonly loadRange: ((segment: number, from: number, to: number) => readonly unknown[]) | undefined;
  readonly index: number;
  all: readonly unknown[] | undefined;
  /** Leaves of the segment that have not taken their elements yet. */
  pending: number;
}

/**
 * A leaf of 32 elements taken from a lazy segment on first use (see "Lazy
 * leaves"): the segment's loader runs once for all its leaves; each leaf keeps its
 * own 32 elements, and the segment drops its array (and loader) once every leaf
 * took its part.
 */
class LazyLeaf {
  #segment: SegmentState | undefined;
  readonly #offset: number;
  #items: readonly unknown[] | undefined;
  /** Elements `[0, k)` read so far by `prefix` (a one-leaf segment with `loadRange` only); kept, so each is produced once. */
  #prefix: readonly unknown[] = [];
  constructor(segment: SegmentState, offset: number) {
    this.#segment = segment;
    this.#offset = offset;
  }
  force(): readonly unknown[] {
    if (this.#items === undefined) {
      const seg = this.#segment!;
      const done = this.#prefix.length;
      if (done > 0) {
        // `prefix` read the first elements: produce only the rest (the same objects stay at `[0, done)`).
        const rest = done === WIDTH ? [] : seg.loadRange!(seg.index, done, WIDTH);
        if (rest.length !== WIDTH - done) throw new RangeError(`a lazy vector segment loaded ${rest.length} elements, ${WIDTH - done} expected`);
        this.#items = [...this.#prefix, ...rest];
        this.#prefix = [];
        seg.load = undefined;
      } else {
        if (seg.all === undefined) {
          const xs = seg.load!(seg.index);
          if (xs.length !== seg.size) throw new RangeError(`a lazy vector segment loaded ${xs.length} elements, ${seg.size} expected`);
          seg.all = xs;
          seg.load = undefined;
        }
        this.#items = seg.all.slice(this.#offset, this.#offset + WIDTH);
        if (--seg.pending === 0) seg.all = undefined;
      }
      this.#segment = undefined;
    }
    return this.#items;
  }
  /**
   * Elements `[0, count)` (`1 <= count <= 32`) without producing the rest when the
   * segment can (`loadRange`): what `vecGet` and `vecTake` need of a leaf they do
   * not read in full (a fork imports the 4 digest checkpoints it keeps, not 32).
   */
  prefix(count: number): readonly unknown[] {
    if (this.#items !== undefined) return this.#items.slice(0, count);
    const seg = this.#segment!;
    if (seg.loadRange === undefined || seg.all !== undefined) return this.force().slice(0, count);
    const done = this.#prefix.length;
    if (count > done) {
      const more = seg.loadRange(seg.index, done, count);
      if (more.length !== count - done) throw new RangeError(`a lazy vector segment loaded ${more.length} elements, ${count - done} expected`);
      this.#prefix = [...this.#prefix, ...more];
    }
    return this.#prefix.slice(0, count);
  }
  get loaded(): boolean {
    return this.#items !== undefined;
  }
}

/** A leaf as stored in the trie: its 32 elements, or a lazy leaf. */
type Leaf = Node | LazyLeaf;

/**
 * A bottom trie node (its children are leaves) of 32 lazy leaves not made yet
 * (see "Lazy leaves"): `make` builds them on the first `open`, once. Appears
 * only where a node of the level just above the leaves would (as a child, or as
 * the root of a one-level trie), and is never written in place.
 */
class LazyBranch {
  #make: (() => Node) | undefined;
  #children: Node | undefined;
  constructor(make: () => Node) {
    this.#make = make;
  }
  children(): Node {
    if (this.#children === undefined) {
      this.#children = this.#make!();
      this.#make = undefined;
    }
    return this.#children;
  }
  get opened(): boolean {
    return this.#children !== undefined;
  }
}

/** The child array of a trie node: a lazy branch's leaves are made now (none loaded). */
const open = (node: Node | LazyBranch): Node => (node instanceof LazyBranch ? node.children() : node);

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
  const leaf = leafNodeFor(v, i);
  return (leaf instanceof LazyLeaf ? leaf.force() : leaf) as readonly T[];
};

/** The leaf holding index `i` as stored (a lazy leaf is not loaded). Caller guarantees `0 <= i < size`. */
const leafNodeFor = <T>(v: PVec<T>, i: number): Leaf => {
  if (i >= tailOffset(v)) return v.tail;
  let node: Node = v.root;
  for (let level = v.shift; level > 0; level -= BITS) node = open(node)[(i >>> level) & MASK] as Node;
  return node as Leaf;
};

/** Elements `[i - (i mod 32), i]` of the leaf holding `i`: a lazy leaf produces no element after `i` (`LazyLeaf.prefix`). */
const leafPrefixFor = <T>(v: PVec<T>, i: number): readonly T[] => {
  const leaf = leafNodeFor(v, i);
  return (leaf instanceof LazyLeaf ? leaf.prefix((i & MASK) + 1) : leaf) as readonly T[];
};

/** Element `i` (0-based), or `undefined` when `i` is not an integer in `[0, size)`. O(log32 n). */
export const vecGet = <T>(v: PVec<T>, i: number): T | undefined => {
  if (!Number.isInteger(i) || i < 0 || i >= v.size) return undefined;
  return leafPrefixFor(v, i)[i & MASK];
};

/** A path of single-child nodes from `level` down to `leaf`. */
const newPath = (level: number, leaf: Leaf): Node => (level === 0 ? (leaf as Node) : [newPath(level - BITS, leaf)]);

/**
 * Inserts the full leaf `leaf` as leaf number `leafIndex` below `node` (at `level`).
 * Nodes in `owned` were created during the current bulk operation and may be
 * written in place; every other node is copied (path copying).
 */
const pushLeaf = (node: Node, level: number, leafIndex: number, leaf: Leaf, owned: Set<Node> | undefined): Node => {
  const sub = ((leafIndex << BITS) >>> level) & MASK;
  const base = open(node);
  const out: unknown[] = owned?.has(base) ? (base as unknown[]) : base.slice();
  if (level === BITS) {
    out[sub] = leaf;
  } else {
    const child = base[sub] as Node | undefined;
    out[sub] = child === undefined ? ownPath(level - BITS, leaf, owned) : pushLeaf(child, level - BITS, leafIndex, leaf, owned);
  }
  if (owned !== undefined) owned.add(out);
  return out;
};

const ownPath = (level: number, leaf: Leaf, owned: Set<Node> | undefined): Node => {
  const p = newPath(level, leaf);
  if (owned !== undefined) for (let n: Node = p, l = level; l > 0; l -= BITS, n = n[0] as Node) owned.add(n);
  return p;
};

/** Adds the full tail `leaf` (32 elements) of a vector of `trieSize` trie elements to its trie. */
const addLeaf = (root: Node, shift: number, trieSize: number, leaf: Leaf, owned: Set<Node> | undefined): { root: Node; shift: number } => {
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
  let owned: Set<Node> | undefined; // created on the first leaf: most calls append a few elements to the tail
  let { root, shift } = v;
  let trieSize = tailOffset(v);
  let tail: T[] | undefined;
  let size = v.size;
  for (const x of xs) {
    if (tail === undefined) tail = v.tail.slice();
    if (tail.length === WIDTH) {
      ({ root, shift } = addLeaf(root, shift, trieSize, tail, (owned ??= new Set<Node>())));
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
  const children = open(node);
  const out = children.slice(0, keep) as unknown[];
  const lastCount = count - (keep - 1) * span;
  if (lastCount < span) out[keep - 1] = trimTrie(children[keep - 1] as Node, level - BITS, lastCount);
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
  const tail = leafPrefixFor(v, k - 1).slice(0, tailLen);
  const trieSize = k - tailLen;
  if (trieSize === 0) return { size: k, shift: BITS, root: EMPTY.root, tail };
  let root = trimTrie(v.root, v.shift, trieSize);
  let shift = v.shift;
  // Collapse single-child roots so the trie stays as shallow as its size needs.
  while (shift > BITS && open(root).length === 1) {
    root = open(root)[0] as Node;
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

/**
 * `segments` runs of `size` elements each (`size` a positive multiple of 32),
 * segment `i` produced by `load(i)` on first use (see `vecFromLazy`).
 */
export interface LazyRun<T> {
  readonly segments: number;
  readonly size: number;
  readonly load: (segment: number) => readonly T[];
  /**
   * Optional, for segments of one leaf (`size` 32): elements `[from, to)` of
   * `segment`, so a read of a leaf's first elements (`vecGet`, `vecTake`
   * cutting in it) produces only those. Each element is asked for once.
   */
  readonly loadRange?: (segment: number, from: number, to: number) => readonly T[];
}

/**
 * The lazy leaves of `runs`, in order, made on demand: `count` leaves, and
 * `leaf(g)` makes leaf `g` (call each `g` once, in any order). The leaves of
 * one segment share its state (one loader call); a segment's state is kept only
 * until its last leaf is made.
 */
const lazyLeafSource = <T>(runs: ReadonlyArray<LazyRun<T>>): { readonly count: number; readonly leaf: (g: number) => LazyLeaf } => {
  const starts: number[] = []; // first leaf of each run
  let count = 0;
  for (const run of runs) {
    const { size, segments } = run;
    if (!Number.isSafeInteger(size) || size <= 0 || size % WIDTH !== 0) {
      throw new RangeError(`vecFromLazy: a segment must hold a positive multiple of ${WIDTH} elements, not ${size}`);
    }
    if (!Number.isSafeInteger(segments) || segments < 0) throw new RangeError(`vecFromLazy: bad segment count ${segments}`);
    starts.push(count);
    count += segments * (size / WIDTH);
  }
  const partial = new Map<string, { readonly state: SegmentState; made: number }>(); // segments some but not all of whose leaves were made
  const leaf = (g: number): LazyLeaf => {
    let r = runs.length - 1;
    while (starts[r]! > g) r--;
    const run = runs[r]!;
    const perSegment = run.size / WIDTH;
    const local = g - starts[r]!;
    const index = Math.floor(local / perSegment);
    const offset = (local % perSegment) * WIDTH;
    if (perSegment === 1) return new LazyLeaf({ size: run.size, load: run.load, loadRange: run.loadRange, index, all: undefined, pending: 1 }, 0);
    const key = `${r}/${index}`;
    let p = partial.get(key);
    if (p === undefined) partial.set(key, (p = { state: { size: run.size, load: run.load, loadRange: undefined, index, all: undefined, pending: perSegment }, made: 0 }));
    if (++p.made === perSegment) partial.delete(key);
    const state = p.state;
    return new LazyLeaf(state, offset);
  };
  return { count, leaf };
};

/**
 * The trie holding leaves `0..count-1` of `source` (full leaves, in order),
 * built bottom-up: the same left-packed shape pushes give (every subtree but
 * the last is full). Each complete group of 32 becomes a `LazyBranch`; a last,
 * partial group is made now.
 */
const lazyTrieOf = (source: { readonly leaf: (g: number) => LazyLeaf }, count: number): { root: Node; shift: number } => {
  const branches: Array<Node | LazyBranch> = [];
  for (let g = 0; g < count; g += WIDTH) {
    const end = Math.min(count, g + WIDTH);
    const make = (): Node => {
      const leaves: LazyLeaf[] = [];
      for (let k = g; k < end; k++) leaves.push(source.leaf(k));
      return leaves;
    };
    branches.push(end - g === WIDTH ? new LazyBranch(make) : make());
  }
  if (branches.length === 1) return { root: branches[0] as unknown as Node, shift: BITS }; // a one-level trie: the root may be a lazy branch (`open` reads every node)
  let level: readonly unknown[] = branches;
  let shift = 2 * BITS;
  while (level.length > WIDTH) {
    const up: Node[] = [];
    for (let k = 0; k < level.length; k += WIDTH) up.push(level.slice(k, k + WIDTH));
    level = up;
    shift += BITS;
  }
  return { root: level, shift };
};

/**
 * A vector of the elements of `runs` in order, then the elements of `tail`.
 * Every segment becomes `size / 32` lazy leaves sharing one call of its loader
 * (kept once it succeeds; it must return exactly `size` elements, else the read
 * throws `RangeError`). Nothing is loaded by this call, except when `tail` is
 * empty: the last leaf of the last segment then becomes the vector's tail and is
 * loaded now (a loader's exception propagates). O(elements / 1,024 + |tail|):
 * the leaves are made per group of 32 when first reached (see "Lazy leaves").
 */
export const vecFromLazy = <T>(runs: ReadonlyArray<LazyRun<T>>, tail: Iterable<T>): PVec<T> => {
  const source = lazyLeafSource(runs);
  const rest = [...tail];
  if (source.count === 0) return vecPushAll(emptyVec<T>(), rest);
  if (rest.length === 0) {
    const trieLeaves = source.count - 1;
    const last = source.leaf(trieLeaves).force() as readonly T[];
    if (trieLeaves === 0) return { size: WIDTH, shift: BITS, root: EMPTY.root, tail: last };
    const { root, shift } = lazyTrieOf(source, trieLeaves);
    return { size: source.count * WIDTH, shift, root, tail: last };
  }
  const { root, shift } = lazyTrieOf(source, source.count);
  // A trie with an empty tail is not a valid vector, but `vecPushAll` only needs `size - tail.length` to be the trie size.
  return vecPushAll<T>({ size: source.count * WIDTH, shift, root, tail: [] }, rest);
};

/**
 * An identity token for elements `[0, i]`: the lazy branch holding element `i`
 * (`LazyBranch`, opened or not; it is not opened for this), else the leaf
 * holding it as stored (a lazy leaf is not loaded), `undefined` when `i` is not
 * an index. Branches and leaves are never changed and keep their position, and
 * every vector that holds one got it from the vector that created it by pushes
 * and `vecTake`, which keep everything below it (a `vecTake` cutting inside a
 * branch holds a new node there): so two vectors giving the same token for `i`
 * hold the same elements at `0..i`. Different tokens say nothing (a leaf may be
 * copied). The token of a position never changes while a vector holds it
 * (reading elements opens a branch but keeps it in place), and taking it makes
 * no leaf objects: the store keys its chunk reuse on it (`store/chunks.ts`) at
 * every snapshot, for every full chunk of a list, and opening every branch of
 * a long-cached session's lists kept a leaf object per 32 items. O(log32 n).
 */
export const vecLeafKey = <T>(v: PVec<T>, i: number): object | undefined => {
  if (!Number.isInteger(i) || i < 0 || i >= v.size) return undefined;
  if (i >= tailOffset(v)) return v.tail;
  let node: Node | LazyBranch = v.root;
  for (let level = v.shift; level > 0; level -= BITS) {
    if (node instanceof LazyBranch) return node;
    node = node[(i >>> level) & MASK] as Node;
  }
  return node;
};

/** How many lazy branches of `v`'s trie have made their leaf objects (for tests and diagnostics). O(n / 1,024). */
export const vecOpenedBranches = <T>(v: PVec<T>): number => {
  let n = 0;
  const walk = (node: Node | LazyBranch, level: number): void => {
    if (node instanceof LazyBranch) {
      if (node.opened) n++;
      return;
    }
    if (level <= BITS) return;
    for (const child of node) walk(child as Node, level - BITS);
  };
  if (tailOffset(v) > 0) walk(v.root, v.shift);
  return n;
};

/** How many of the trie's leaves are lazy and not loaded yet (for tests and diagnostics). O(n / 32). */
export const vecUnloadedLeaves = <T>(v: PVec<T>): number => {
  let n = 0;
  const walk = (node: Node | LazyBranch, level: number): void => {
    if (level === 0) return;
    if (node instanceof LazyBranch && !node.opened) {
      n += WIDTH; // 32 leaves not even made yet
      return;
    }
    for (const child of open(node)) {
      if (level === BITS) {
        if (child instanceof LazyLeaf && !child.loaded) n++;
      } else walk(child as Node, level - BITS);
    }
  };
  if (tailOffset(v) > 0) walk(v.root, v.shift);
  return n;
};
