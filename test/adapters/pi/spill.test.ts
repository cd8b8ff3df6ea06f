/**
 * The names of spill directories (`spill.ts`): `parseSpillName` reads exactly
 * `palimpsest-pi-<key>-<pid>-<6 letters or digits>` (an import's hex key, an
 * export's `x` key), and the two removals built on it touch only such
 * directories: `removeOwnSpills` this process's, `removeStaleSpills` those of
 * one key whose process is gone. Real directories in a test-owned temp dir.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOpSpill, parseSpillName, removeOwnSpills, removeStaleSpills } from '../../../src/adapters/pi/spill.ts';
import { cleanupDirs, tempDir } from '../../store/helpers.ts';

afterAll(cleanupDirs);

/** The pid of a process that has exited (a spill of it is stale). */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid!;

/** Makes directory `name` in `parent` with a file in it (a spill is never empty for long). */
const mkSpill = (parent: string, name: string): void => {
  fs.mkdirSync(nodePath.join(parent, name));
  fs.writeFileSync(nodePath.join(parent, name, 'source.jsonl'), 'x\n');
};

describe('parseSpillName', () => {
  it('reads the key, the pid and the mkdtemp suffix of an import (hex key) and an export (x key)', () => {
    expect(parseSpillName('palimpsest-pi-0123456789abcdef-4242-AbC9xZ')).toEqual({ key: '0123456789abcdef', pid: 4242, rest: 'AbC9xZ' });
    expect(parseSpillName('palimpsest-pi-x0123456789abcdef-7-000000')).toEqual({ key: 'x0123456789abcdef', pid: 7, rest: '000000' });
  });

  it('reads the name of a directory openOpSpill made', () => {
    const tmp = tempDir('pi-spill-name');
    for (const key of ['00ff00ff00ff00ff', 'x00ff00ff00ff00ff']) {
      const spill = openOpSpill(key, tmp);
      try {
        expect(parseSpillName(nodePath.basename(spill.dir))).toEqual({ key, pid: process.pid, rest: expect.stringMatching(/^[0-9A-Za-z]{6}$/) });
      } finally {
        spill.dispose();
      }
    }
  });

  it('gives undefined for every other name', () => {
    for (const name of [
      'unrelated',
      'palimpsest-pi-view-AbC9xZ', // test/adapters/pi/piOracle.ts's scratch directory
      'palimpsest-pi-abc-4242', // no suffix
      'palimpsest-pi-abc-4242-', // empty suffix
      'palimpsest-pi-abc-4242-AbC9x', // suffix too short
      'palimpsest-pi-abc-4242-AbC9xZ7', // suffix too long
      'palimpsest-pi-abc-4242-AbC9xZ.bak',
      'palimpsest-pi-abc-4242-AbC-xZ',
      'palimpsest-pi--4242-AbC9xZ', // no key
      'palimpsest-pi-ab-c-4242-AbC9xZ', // a dash in the key
      `palimpsest-pi-${'a'.repeat(65)}-4242-AbC9xZ`, // key too long
      'palimpsest-pi-abc-0-AbC9xZ', // pid 0
      'palimpsest-pi-abc-04242-AbC9xZ', // not how a pid is written
      'palimpsest-pi-abc--4242-AbC9xZ',
      'palimpsest-pi-abc-99999999999999999-AbC9xZ', // not a safe integer
      'Palimpsest-pi-abc-4242-AbC9xZ',
      'xpalimpsest-pi-abc-4242-AbC9xZ',
      'palimpsest-cli-export-4242-AbC9xZ',
    ]) {
      expect(parseSpillName(name), name).toBeUndefined();
    }
  });
});

describe('removing spills', () => {
  it("removeOwnSpills removes this process's spill directories of every key, and nothing else", () => {
    const tmp = tempDir('pi-spill-own');
    const outside = tempDir('pi-spill-outside');
    mkSpill(outside, 'kept');
    const own = process.pid;
    const live = process.ppid;
    const dead = deadPid();
    const mine = [`palimpsest-pi-0123456789abcdef-${own}-AbC9xZ`, `palimpsest-pi-x0123456789abcdef-${own}-q1W2e3`];
    const others = [
      `palimpsest-pi-0123456789abcdef-${live}-AbC9xZ`,
      `palimpsest-pi-x0123456789abcdef-${live}-AbC9xZ`,
      `palimpsest-pi-x0123456789abcdef-${dead}-AbC9xZ`,
      `palimpsest-pi-x0123456789abcdef-${own}1-AbC9xZ`,
      `palimpsest-pi-x0123456789abcdef-${own}-AbC9x`,
      `palimpsest-pi-x0123456789abcdef-${own}-AbC9xZ.bak`,
      `palimpsest-pi-view-${own}`,
      'unrelated',
    ];
    for (const n of [...mine, ...others]) mkSpill(tmp, n);
    // Spill names that are not directories: a file, and a link to a directory elsewhere.
    fs.writeFileSync(nodePath.join(tmp, `palimpsest-pi-0123456789abcdef-${own}-fIlE00`), 'a user file\n');
    fs.symlinkSync(nodePath.join(outside, 'kept'), nodePath.join(tmp, `palimpsest-pi-0123456789abcdef-${own}-LiNk00`));

    expect(removeOwnSpills(tmp)).toBe(2);
    expect(fs.readdirSync(tmp).sort()).toEqual(
      [...others, `palimpsest-pi-0123456789abcdef-${own}-fIlE00`, `palimpsest-pi-0123456789abcdef-${own}-LiNk00`].sort(),
    );
    expect(fs.readFileSync(nodePath.join(outside, 'kept', 'source.jsonl'), 'utf8')).toBe('x\n');
    for (const n of others) expect(fs.readFileSync(nodePath.join(tmp, n, 'source.jsonl'), 'utf8'), n).toBe('x\n');
    expect(removeOwnSpills(tmp)).toBe(0);
    expect(removeOwnSpills(nodePath.join(tmp, 'missing'))).toBe(0);
  });

  it('removeStaleSpills removes the spill directories of one key whose process is gone, and nothing else', () => {
    const tmp = tempDir('pi-spill-stale');
    const own = process.pid;
    const live = process.ppid;
    const dead = deadPid();
    const key = 'x0123456789abcdef';
    const stale = `palimpsest-pi-${key}-${dead}-AbC9xZ`;
    const kept = [
      `palimpsest-pi-${key}-${own}-AbC9xZ`,
      `palimpsest-pi-${key}-${live}-AbC9xZ`,
      `palimpsest-pi-0123456789abcdef-${dead}-AbC9xZ`,
      `palimpsest-pi-${key}0-${dead}-AbC9xZ`,
      `palimpsest-pi-${key}-${dead}-AbC9x`,
      'unrelated',
    ];
    for (const n of [stale, ...kept]) mkSpill(tmp, n);
    fs.writeFileSync(nodePath.join(tmp, `palimpsest-pi-${key}-${dead}-fIlE00`), 'a user file\n');

    expect(removeStaleSpills(tmp, key)).toBe(1);
    expect(fs.readdirSync(tmp).sort()).toEqual([...kept, `palimpsest-pi-${key}-${dead}-fIlE00`].sort());
  });
});
