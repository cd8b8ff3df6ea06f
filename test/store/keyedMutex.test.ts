/** The store's writer lock: one task at a time per key, in call order; keys independent; a rejection does not block the next task. */
import { describe, expect, it } from 'vitest';
import { keyedMutex } from '../../src/store/keyedMutex.ts';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('keyedMutex', () => {
  it('runs tasks of one key one at a time, in call order', async () => {
    const m = keyedMutex();
    const log: string[] = [];
    let inside = 0;
    const task = (name: string) => async () => {
      inside++;
      expect(inside).toBe(1);
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
      inside--;
      return name;
    };
    const results = await Promise.all(['a', 'b', 'c'].map((n) => m.run('k', task(n))));
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs tasks of different keys concurrently, and a rejection does not block the key', async () => {
    const m = keyedMutex();
    const log: string[] = [];
    let release!: () => void;
    const held = m.run('x', () => new Promise<void>((r) => (release = r)));
    await m.run('y', async () => void log.push('y ran while x was held'));
    expect(log).toEqual(['y ran while x was held']);
    release();
    await held;
    await expect(m.run('x', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await m.run('x', async () => 'next')).toBe('next');
    await m.idle();
  });
});
