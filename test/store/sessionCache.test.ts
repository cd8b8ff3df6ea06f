/**
 * The LRU of latest sessions (`store/sessionCache.ts`): recency by use, the
 * most recently used entry never evicted, a deleted newest entry forgotten.
 */
import { describe, expect, it } from 'vitest';
import { sessionCache, type CacheEntry } from '../../src/store/sessionCache.ts';

/** A distinct stand-in entry (the cache never looks inside one). */
const entry = (n: number): CacheEntry => ({ snapshot: n }) as unknown as CacheEntry;

describe('sessionCache', () => {
  it('evicts the least recently used; get and set both count as use, touching the newest twice moves nothing', () => {
    const c = sessionCache(2);
    c.set('a', entry(1));
    c.set('b', entry(2));
    expect(c.get('a')).toEqual(entry(1)); // a is now the newest
    expect(c.get('a')).toEqual(entry(1));
    c.set('a', entry(3)); // replaces a's entry, a stays the newest
    c.set('c', entry(4)); // evicts b
    expect(c.has('b')).toBe(false);
    expect(c.peek('a')).toEqual(entry(3));
    c.set('c', entry(5));
    c.set('d', entry(6)); // evicts a (c, then d, used since)
    expect([c.has('a'), c.has('c'), c.has('d')]).toEqual([false, true, true]);
  });

  it('peek does not count as use', () => {
    const c = sessionCache(2);
    c.set('a', entry(1));
    c.set('b', entry(2));
    c.peek('a');
    c.set('c', entry(3));
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([false, true, true]);
  });

  it('after the newest entry is deleted (or all are cleared) and set again, recency is still right', () => {
    const c = sessionCache(2);
    c.set('a', entry(1));
    c.set('b', entry(2));
    c.delete('b');
    c.set('b', entry(3));
    c.get('a');
    c.set('c', entry(4)); // b is the least recently used
    expect([c.has('a'), c.has('b'), c.has('c')]).toEqual([true, false, true]);
    c.clear();
    c.set('x', entry(5));
    c.set('y', entry(6));
    c.get('x');
    c.set('z', entry(7));
    expect([c.has('x'), c.has('y'), c.has('z')]).toEqual([true, false, true]);
  });

  it('capacity 0 keeps nothing', () => {
    const c = sessionCache(0);
    c.set('a', entry(1));
    expect(c.get('a')).toBeUndefined();
  });
});
