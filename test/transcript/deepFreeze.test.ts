/**
 * `deepFreeze` freezes every object and array below its argument, also below
 * a node its owner froze already, and ends on shared and cyclic references.
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
});
