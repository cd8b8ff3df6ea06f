/**
 * The page's bundle (one script, one stylesheet). The built package ships it
 * prebuilt next to this module (`dist/inspect/web/app.js`, `app.css`, written
 * by `npm run build`); running from the TypeScript sources (tsx), it is bundled
 * on first use from `src/inspect/web/main.tsx` with esbuild (a dev dependency).
 */
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as E from 'fp-ts/lib/Either.js';

/** The page's script (an IIFE) and stylesheet, as text. */
export interface InspectorAssets {
  readonly js: string;
  readonly css: string;
}

/** The bundle is neither prebuilt nor buildable here. */
export interface AssetsUnavailable {
  readonly _tag: 'AssetsUnavailable';
  readonly message: string;
}

/** Where the prebuilt bundle sits, relative to this module. */
export const PREBUILT = { js: new URL('./web/app.js', import.meta.url), css: new URL('./web/app.css', import.meta.url) } as const;

/** The page's entry point in a source checkout: beside this module (running from `src/`), or in `src/` when this module runs compiled from `dist/`. */
export const ENTRIES = [new URL('./web/main.tsx', import.meta.url), new URL('../../src/inspect/web/main.tsx', import.meta.url)] as const;

/** Reads the prebuilt bundle, else bundles the sources with esbuild (see the module comment). */
export const loadInspectorAssets = async (): Promise<E.Either<AssetsUnavailable, InspectorAssets>> => {
  if (fs.existsSync(PREBUILT.js) && fs.existsSync(PREBUILT.css)) return E.right({ js: fs.readFileSync(PREBUILT.js, 'utf8'), css: fs.readFileSync(PREBUILT.css, 'utf8') });
  const entry = ENTRIES.find((u) => fs.existsSync(u));
  if (entry === undefined) return E.left({ _tag: 'AssetsUnavailable', message: `the inspector page is not built: ${fileURLToPath(PREBUILT.js)} is missing (run npm run build)` });
  const { bundleInspector } = await import('./bundle.ts');
  return bundleInspector(fileURLToPath(entry));
};
