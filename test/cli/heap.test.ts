/**
 * The CLI's V8 heap growth setting (src/cli/heap.ts): set unless the process
 * was started with its own, and accepted by this Node's V8 (a child process
 * given the flag runs; an unknown flag would make node refuse to start).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { CLI_HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/cli/heap.ts';

describe('heapGrowthFlag', () => {
  it('sets --heap-growing-percent=50 by default', () => {
    expect(heapGrowthFlag([], undefined)).toBe(`--heap-growing-percent=${CLI_HEAP_GROWING_PERCENT}`);
    expect(heapGrowthFlag(['--enable-source-maps'], '--max-old-space-size=512')).toBe('--heap-growing-percent=50');
  });

  it("keeps the process's own setting, in node's arguments or NODE_OPTIONS, in either spelling", () => {
    expect(heapGrowthFlag(['--heap-growing-percent=20'], undefined)).toBeUndefined();
    expect(heapGrowthFlag(['--heap_growing_percent=20'], undefined)).toBeUndefined();
    expect(heapGrowthFlag([], '--inspect --heap-growing-percent=80')).toBeUndefined();
  });

  it("is a flag this Node's V8 knows", () => {
    const out = execFileSync(process.execPath, [heapGrowthFlag([], undefined)!, '-e', 'process.stdout.write("ok")'], { encoding: 'utf8' });
    expect(out).toBe('ok');
    expect(() => execFileSync(process.execPath, ['--heap-growing-percentage=50', '-e', '0'], { stdio: 'pipe' })).toThrow();
  });
});
