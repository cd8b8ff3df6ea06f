/**
 * The README's self-checking code blocks run as written: every ```ts block
 * that imports `node:assert/strict` is written to a module under
 * `node_modules/.cache/palimpsest-readme/` (so its bare imports resolve from
 * this checkout) and imported; its own `assert`s are the test. Imports of
 * `palimpsest` and its subpaths are pointed at the sources behind each
 * `exports` entry (`./dist/x.js` → `src/x.ts`), so the blocks test this
 * checkout, not a stale build.
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CACHE = nodePath.join(ROOT, 'node_modules', '.cache', 'palimpsest-readme');
const readme = fs.readFileSync(nodePath.join(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(nodePath.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> };

/** `palimpsest/<sub>` → the absolute path of its source module. */
const sources = new Map(
  Object.entries(pkg.exports)
    .filter(([k]) => k !== './package.json')
    .map(([k, v]) => {
      const target = typeof v === 'string' ? v : v.default;
      return [k === '.' ? 'palimpsest' : `palimpsest/${k.slice(2)}`, nodePath.join(ROOT, target.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'))] as const;
    }),
);

/** The ```ts blocks that check themselves, with the heading above each. */
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```/gm)]
  .map((m) => ({ code: m[1]!, heading: [...readme.slice(0, m.index).matchAll(/^## (.+)$/gm)].at(-1)?.[1] ?? '(top)' }))
  .filter((b) => b.code.includes("from 'node:assert/strict'"));

describe('README code blocks', () => {
  it('there are self-checking blocks for the integrations', () => {
    expect(blocks.map((b) => b.heading)).toEqual(['Agents SDK integration (three lines)', 'AI SDK chat store', 'Property-test your compaction strategy', 'pi sessions, losslessly']);
  });

  for (const [i, b] of blocks.entries()) {
    it(`runs the block under "${b.heading}"`, async () => {
      const code = b.code.replace(/from '(palimpsest(?:\/[a-z-]+)?)'/g, (whole, spec: string) => {
        const src = sources.get(spec);
        if (src === undefined) throw new Error(`README imports ${spec}, which package.json does not export`);
        return `from ${JSON.stringify(pathToFileURL(src).href)}`;
      });
      fs.mkdirSync(CACHE, { recursive: true });
      const file = nodePath.join(CACHE, `block-${i}.ts`);
      fs.writeFileSync(file, `${code}\nexport {};\n`);
      await import(/* @vite-ignore */ `${pathToFileURL(file).href}?t=${Date.now()}`);
    });
  }
});
