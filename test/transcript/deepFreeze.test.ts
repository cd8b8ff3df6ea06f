/**
 * `deepFreeze` freezes every object and array below its argument, also below
 * a node its owner froze already, and ends on shared and cyclic references;
 * its memo of what it froze is a bounded cache, so after it starts over a
 * value it froze before is still frozen through and through.
 */
import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../../src/transcript/transcript.ts';

/** Every object and array reachable from `v` (each once). */
const nodes = (v: unknown, seen = new Set<object>()): object[] => {
  if (typeof v !== 'object' || v === null || seen.has(v)) return [...seen];
  seen.add(v);
  for (const k of Object.keys(v)) nodes((v as Record<string, unknown>)[k], seen);
  return [...seen];
};

describe('deepFreeze', () => {
  it('freezes every node of a message, and a node below one its owner froze shallowly', () => {
    const inner = { type: 'text', text: 'hi', extra: { deep: [1, { deeper: true }] } };
    const shallow = Object.freeze({ content: [inner], meta: { a: [] as unknown[] } });
    const m = { role: 'user', content: [inner, { type: 'text', text: 'x' }], frozenPart: shallow };
    expect(deepFreeze(m)).toBe(m);
    for (const n of nodes(m)) expect(Object.isFrozen(n)).toBe(true);
  });

  it('ends on cyclic and shared references, freezing them', () => {
    const a: Record<string, unknown> = { name: 'a' };
    const b: Record<string, unknown> = { name: 'b', back: a, list: [a] };
    a.next = b;
    a.self = a;
    const shared = { s: [1, 2] };
    const root = { a, b, shared, again: [shared, shared] };
    deepFreeze(root);
    for (const n of nodes(root)) expect(Object.isFrozen(n)).toBe(true);
    // A root frozen whole is skipped the next time, and so is a value met inside it.
    expect(deepFreeze(root)).toBe(root);
    expect(deepFreeze(b)).toBe(b);
  });

  it('after more values than its memo holds (65,536), what it froze before is walked again and a shallow-frozen node below it still frozen', () => {
    const first = { a: Object.freeze({ b: { c: [1] } }) };
    deepFreeze(first);
    for (let i = 0; i < 70_000; i++) deepFreeze({ i });
    // The memo started over: `first` is walked again (nothing to freeze), and a new value sharing its frozen part too.
    expect(deepFreeze(first)).toBe(first);
    const later = { shared: first.a, own: { d: [2] } };
    deepFreeze(later);
    for (const n of [...nodes(first), ...nodes(later)]) expect(Object.isFrozen(n)).toBe(true);
  });
});
