/**
 * The chunk-id index of a persisted list (snapshot format v2; ARCHITECTURE.md,
 * "Lazy loads"): finds the id of full chunk `i` in O(log n) reads instead of
 * walking `prev` links down from the newest chunk.
 *
 * The `full` chunk ids `c_0 … c_{full-1}` of a list are the leaves of a tree of
 * fan-out `INDEX_FANOUT` (32) whose shape depends only on `full`:
 *
 *     IndexNode = { v: 1, level: L, ids: Id[] }    // canonical JSON, stored under C/<id>
 *     NodeId    = "sha256:" + hex(SHA-256(node bytes))
 *
 * `depth` = the least d ≥ 1 with 32^d ≥ full. Node (L, j) (level L, 0 = the
 * leaves' parents, position j) covers chunks [j·32^(L+1), min((j+1)·32^(L+1), full));
 * at level 0 its `ids` are those chunk ids, at level L > 0 the ids of its
 * children (L−1, 32j …). The root is (depth−1, 0); the snapshot's list
 * reference names it (`index`). Nodes are content-addressed like chunks and
 * live in the same namespace (`C/`): a node covering only chunks that did not
 * change is the same node, so consecutive snapshots and forks share every node
 * but the O(depth) ones on the right spine (copy on write), and storage grows
 * linearly over a session's life (no flat list of ids per snapshot).
 *
 * Reading (`indexReader`): a node is read through the synchronous chunk reader,
 * must hash to the id its parent (or the snapshot) names, parse, say its level
 * and hold exactly the entries its position needs; a failure is thrown by the
 * caller's `fail` (the lazy list's `CorruptRecord`). Nodes read are kept.
 */
import { canonicalJsonUnsafe } from '../model/json.ts';
import { isDigest } from '../model/scalars.ts';
import { sha256OfUtf8 } from '../model/hashing.ts';
import type { LazyReadFailure } from '../transcript/lazy.ts';

/** Children per index node. */
export const INDEX_FANOUT = 32;
/** Index node format version. */
export const INDEX_NODE_VERSION = 1 as const;

/** The id of an index node: `sha256:<64 hex>` of its canonical JSON bytes. */
export type NodeId = string;

/** An index node to write: its id (key `C/<id>`) and its canonical JSON. */
export interface StoredIndexNode {
  readonly id: NodeId;
  readonly value: string;
}

/** The number of levels of the index of `full` (≥ 1) chunks. */
export const indexDepth = (full: number): number => {
  let d = 1;
  for (let span = INDEX_FANOUT; span < full; span *= INDEX_FANOUT) d++;
  return d;
};

/** Chunks covered by a node at `level`. */
const spanOf = (level: number): number => INDEX_FANOUT ** (level + 1);

/** Nodes at `level` in the index of `full` chunks. */
const nodeCount = (full: number, level: number): number => Math.ceil(full / spanOf(level));

/** Entries of node (`level`, `j`) in the index of `full` chunks. */
const entryCount = (full: number, level: number, j: number): number => {
  const start = j * spanOf(level);
  return Math.ceil((Math.min(start + spanOf(level), full) - start) / INDEX_FANOUT ** level);
};

/** Builds one node's canonical JSON and id. */
export const makeIndexNode = (level: number, ids: readonly string[]): StoredIndexNode => {
  const value = canonicalJsonUnsafe({ ids, level, v: INDEX_NODE_VERSION });
  return { id: sha256OfUtf8(value), value };
};

/**
 * The node ids of an index built (or read) before, for the next build: node
 * (L, j) is `levels[L][j]`, or, for a hole, `resolve(L, j)` (which reads the
 * stored index and may throw `LazyReadFailure`). `full` is the chunk count it
 * indexes; `root` its root.
 */
export interface IndexMemo {
  readonly full: number;
  readonly root: NodeId;
  readonly levels: ReadonlyArray<ReadonlyArray<NodeId | undefined>>;
  readonly resolve?: (level: number, j: number) => NodeId;
}

/** What `buildIndex` produced: the root, the nodes not in the memo, the memo of the result. */
export interface BuiltIndex {
  readonly root: NodeId;
  readonly nodes: readonly StoredIndexNode[];
  readonly memo: IndexMemo;
}

/**
 * The index of `full` (≥ 1) chunks whose ids are `idAt(i)`, given that chunks
 * `0 … reuse−1` are those `memo` indexed. A node of the memo is kept when it
 * covers the same chunks in both lists and all of them are below `reuse`;
 * the rest (the right spine after appends: one node a level) is built.
 * Cost: O(nodes built × 32) plus a read of the stored index per hole resolved.
 */
export const buildIndex = (full: number, reuse: number, idAt: (i: number) => string, memo: IndexMemo | undefined): BuiltIndex => {
  const depth = indexDepth(full);
  const levels: Array<Array<NodeId | undefined>> = [];
  const nodes: StoredIndexNode[] = [];
  for (let level = 0; level < depth; level++) {
    const n = nodeCount(full, level);
    const span = spanOf(level);
    const old = memo?.levels[level];
    const out = new Array<NodeId | undefined>(n);
    let j = 0;
    if (memo !== undefined) {
      for (; j < n; j++) {
        const end = Math.min((j + 1) * span, full);
        if (j * span >= memo.full || end !== Math.min((j + 1) * span, memo.full) || end > reuse) break;
        out[j] = old?.[j];
      }
    }
    const below = levels[level - 1];
    const childAt = (i: number): string => {
      if (below === undefined) return idAt(i);
      let id = below[i];
      if (id === undefined) {
        if (memo?.resolve === undefined) throw new Error(`index memo invariant broken: no id for node (${level - 1}, ${i})`);
        id = below[i] = memo.resolve(level - 1, i);
      }
      return id;
    };
    const children = level === 0 ? full : levels[level - 1]!.length;
    for (; j < n; j++) {
      const ids: string[] = [];
      for (let i = j * INDEX_FANOUT; i < Math.min((j + 1) * INDEX_FANOUT, children); i++) ids.push(childAt(i));
      const node = makeIndexNode(level, ids);
      nodes.push(node);
      out[j] = node.id;
    }
    levels.push(out);
  }
  const top = levels[depth - 1]!;
  let root = top[0];
  if (root === undefined) {
    if (memo?.resolve === undefined) throw new Error('index memo invariant broken: no root');
    root = top[0] = memo.resolve(depth - 1, 0);
  }
  return { root, nodes, memo: { full, root, levels, ...(memo?.resolve !== undefined ? { resolve: memo.resolve } : {}) } };
};

/** Reads a stored index (see the module docstring). Every method may throw what `fail` builds. */
export interface IndexReader {
  /** The id of full chunk `i` (`0 <= i < full`). */
  chunkId(i: number): string;
  /** The id of node (`level`, `j`) (for the memo of the next build). */
  nodeId(level: number, j: number): NodeId;
  /** The memo of this index (nothing read until a hole is resolved). */
  readonly memo: IndexMemo;
}

/**
 * A reader of the index of `full` (≥ 1) chunks rooted at `root`, reading nodes
 * through `read` (the synchronous chunk reader; `undefined` = absent) and
 * reporting a missing, altered or malformed node through `fail(reason)`.
 */
export const indexReader = (full: number, root: NodeId, read: (id: string) => string | undefined, fail: (reason: string) => LazyReadFailure): IndexReader => {
  const depth = indexDepth(full);
  const cache = new Map<string, readonly string[]>();
  const nodeId = (level: number, j: number): NodeId => (level === depth - 1 ? root : node(level + 1, Math.floor(j / INDEX_FANOUT))[j % INDEX_FANOUT]!);
  const node = (level: number, j: number): readonly string[] => {
    const key = `${level}/${j}`;
    const known = cache.get(key);
    if (known !== undefined) return known;
    const id = nodeId(level, j);
    const raw = read(id);
    if (raw === undefined) throw fail(`index node ${id} is missing`);
    if (sha256OfUtf8(raw) !== id) throw fail(`index node ${id} does not hash to its id`);
    const ids = parseIndexNode(raw, level, entryCount(full, level, j));
    if (typeof ids === 'string') throw fail(`index node ${id}: ${ids}`);
    cache.set(key, ids);
    return ids;
  };
  return {
    chunkId: (i) => node(0, Math.floor(i / INDEX_FANOUT))[i % INDEX_FANOUT]!,
    nodeId,
    memo: { full, root, levels: [], resolve: nodeId },
  };
};

/** The entries of a stored node expected at `level` with `count` entries, or why it is not that node. */
const parseIndexNode = (raw: string, level: number, count: number): readonly string[] | string => {
  let p: unknown;
  try {
    p = JSON.parse(raw);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'not an object';
  const o = p as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 3 || o.v !== INDEX_NODE_VERSION || o.level !== level || !Array.isArray(o.ids)) return `not an index node of level ${level} (v ${INDEX_NODE_VERSION}, level, ids)`;
  const ids = o.ids as unknown[];
  if (ids.length !== count) return `holds ${ids.length} ids, ${count} expected at its position`;
  for (const x of ids) if (!isDigest(x)) return `holds ${JSON.stringify(x).slice(0, 80)}, not a sha256 id`;
  return ids as string[];
};

/**
 * The node ids a stored index node of level > 0 names (its children), `[]` for
 * a level-0 node (its children are chunks, found through their own `prev`
 * chain) or a value that is not an index node. Lenient: for copying and
 * prefetching what a snapshot needs, not for trusting it.
 */
export const indexNodeChildren = (raw: string): string[] => {
  if (!raw.startsWith('{"ids":[')) return [];
  try {
    const o = JSON.parse(raw) as { ids?: unknown; level?: unknown };
    return typeof o.level === 'number' && o.level > 0 && Array.isArray(o.ids) ? o.ids.filter(isDigest) : [];
  } catch {
    return [];
  }
};
