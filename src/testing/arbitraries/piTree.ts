/**
 * fast-check arbitraries for pi session trees (pi JSONL version 3, the format
 * `importPiSession` reads): a header and `message` entries linked by
 * `id` / `parentId` into a tree. Each unit (a user message, an assistant reply,
 * or an assistant tool call followed by its results) hangs below the last entry
 * of an earlier unit, so every branch is a well-formed conversation and every
 * leaf is one importable session.
 */
import fc from 'fast-check';

/** A pi `message` entry of the tree. */
export interface PiTreeEntry {
  readonly type: 'message';
  readonly id: string;
  readonly parentId: string | null;
  readonly timestamp: string;
  readonly message: Readonly<Record<string, unknown>>;
}

/** A generated pi tree: its header, its entries in file order, its leaf ids, and the file text. */
export interface PiTree {
  readonly header: { readonly type: 'session'; readonly version: 3; readonly id: string; readonly timestamp: string; readonly cwd: string };
  readonly entries: readonly PiTreeEntry[];
  /** Ids of the entries no other entry hangs below (one imported session each). */
  readonly leaves: readonly string[];
  /** The JSONL text: header line, then one line per entry, each ending in `\n`. */
  readonly jsonl: string;
}

const T0 = Date.UTC(2025, 0, 1);
const text = fc.string({ maxLength: 12 });
const usage = { input: 1, output: 1, cacheRead: 0, cacheWrite: 0, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } };
const assistant = (content: unknown[], stopReason: 'stop' | 'toolUse', timestamp: number) => ({
  role: 'assistant',
  content,
  api: 'anthropic-messages',
  provider: 'anthropic',
  model: 'claude-test',
  usage,
  stopReason,
  timestamp,
});

type Unit =
  | { readonly kind: 'user'; readonly text: string; readonly image: boolean }
  | { readonly kind: 'reply'; readonly text: string; readonly thinking: string | undefined }
  | { readonly kind: 'tools'; readonly calls: readonly { readonly name: string; readonly result: string; readonly isError: boolean }[] };

const arbUnit: fc.Arbitrary<Unit> = fc.oneof(
  fc.record({ kind: fc.constant('user' as const), text, image: fc.boolean() }),
  fc.record({ kind: fc.constant('reply' as const), text, thinking: fc.option(text, { nil: undefined }) }),
  fc.record({
    kind: fc.constant('tools' as const),
    calls: fc.array(fc.record({ name: fc.constantFrom('read', 'bash', 'edit'), result: text, isError: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  }),
);

/** The pi messages of a unit (`n` numbers ids and timestamps). */
const messagesOf = (u: Unit, n: number, at: number): Record<string, unknown>[] => {
  switch (u.kind) {
    case 'user':
      return [{ role: 'user', content: u.image ? [{ type: 'text', text: u.text }, { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }] : u.text, timestamp: at }];
    case 'reply':
      return [assistant([...(u.thinking === undefined ? [] : [{ type: 'thinking', thinking: u.thinking }]), { type: 'text', text: u.text }], 'stop', at)];
    case 'tools':
      return [
        assistant(u.calls.map((c, i) => ({ type: 'toolCall', id: `call_${n}_${i}`, name: c.name, arguments: { i } })), 'toolUse', at),
        ...u.calls.map((c, i) => ({ role: 'toolResult', toolCallId: `call_${n}_${i}`, toolName: c.name, content: [{ type: 'text', text: c.result }], isError: c.isError, timestamp: at })),
      ];
  }
};

/** Options of `arbPiTree`. */
export interface PiTreeOptions {
  /** Most units (default 8); a unit is one to four entries. */
  readonly maxUnits?: number;
}

/** A pi v3 session tree (see the module comment). */
export const arbPiTree = ({ maxUnits = 8 }: PiTreeOptions = {}): fc.Arbitrary<PiTree> =>
  fc.array(fc.tuple(arbUnit, fc.nat()), { minLength: 1, maxLength: maxUnits }).map((units) => {
    const entries: PiTreeEntry[] = [];
    const unitEnds: string[] = [];
    const hasChild = new Set<string>();
    units.forEach(([unit, pick], k) => {
      // the first unit is the root; each later one hangs below the last entry of an earlier unit
      let parentId: string | null = k === 0 ? null : unitEnds[pick % k]!;
      const at = T0 + k * 1000;
      messagesOf(unit, k, at).forEach((message, i) => {
        const id = `e${k}_${i}`;
        if (parentId !== null) hasChild.add(parentId);
        entries.push({ type: 'message', id, parentId, timestamp: new Date(at).toISOString(), message });
        parentId = id;
      });
      unitEnds.push(parentId!);
    });
    const header = { type: 'session' as const, version: 3 as const, id: 'pi-tree', timestamp: new Date(T0).toISOString(), cwd: '/work' };
    const jsonl = [header, ...entries].map((l) => `${JSON.stringify(l)}\n`).join('');
    return { header, entries, leaves: entries.filter((e) => !hasChild.has(e.id)).map((e) => e.id), jsonl };
  });
