/**
 * Bundles the inspector page with esbuild (build time, or on first use when
 * running from sources): `src/inspect/web/main.tsx` and what it imports
 * (Preact, uPlot and its stylesheet) into one minified IIFE script and one
 * stylesheet, for browsers of 2022 on. Run as a script it writes them to a
 * directory: `tsx src/inspect/bundle.ts <outDir>` (what `npm run build` does).
 */
import * as fs from 'node:fs';
import * as nodePath from 'node:path';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';
import type { AssetsUnavailable, InspectorAssets } from './assets.ts';

/** Bundles `entry` in memory. `AssetsUnavailable` when esbuild is missing or the build fails. */
export const bundleInspector = async (entry: string): Promise<E.Either<AssetsUnavailable, InspectorAssets>> => {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return E.left({ _tag: 'AssetsUnavailable', message: 'the inspector page is not built and esbuild is not installed (run npm run build in a source checkout)' });
  }
  try {
    const r = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      outdir: 'out',
      entryNames: 'app',
      format: 'iife',
      platform: 'browser',
      target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
      minify: true,
      legalComments: 'none',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      loader: { '.css': 'css' },
      logLevel: 'silent',
    });
    const js = r.outputFiles.find((f) => f.path.endsWith('.js'));
    const css = r.outputFiles.find((f) => f.path.endsWith('.css'));
    if (js === undefined || css === undefined) return E.left({ _tag: 'AssetsUnavailable', message: 'esbuild produced no app.js/app.css' });
    return E.right({ js: js.text, css: css.text });
  } catch (e) {
    return E.left({ _tag: 'AssetsUnavailable', message: `bundling the inspector page failed: ${e instanceof Error ? e.message : String(e)}` });
  }
};

/** Bundles the page and writes `app.js` and `app.css` into `outDir`. */
const main = async (outDir: string): Promise<number> => {
  const r = await bundleInspector(fileURLToPath(new URL('./web/main.tsx', import.meta.url)));
  if (E.isLeft(r)) {
    process.stderr.write(`${r.left.message}\n`);
    return 1;
  }
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(nodePath.join(outDir, 'app.js'), r.right.js);
  fs.writeFileSync(nodePath.join(outDir, 'app.css'), r.right.css);
  process.stderr.write(`inspector page: ${nodePath.join(outDir, 'app.js')} (${r.right.js.length} bytes), app.css (${r.right.css.length} bytes)\n`);
  return 0;
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === nodePath.resolve(process.argv[1])) {
  const out = process.argv[2];
  if (out === undefined) {
    process.stderr.write('usage: tsx src/inspect/bundle.ts <outDir>\n');
    process.exitCode = 2;
  } else process.exitCode = await main(out);
}
