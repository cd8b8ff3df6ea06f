/**
 * The inspector's HTML: the served page (loads `assets/app.js` and
 * `assets/app.css` by relative URL) and the static page (everything inline:
 * data, script and styles; opens from `file://` with no network).
 */
import type { InspectorAssets } from './assets.ts';

/** The `window` global that holds a static page's data: a map from API path (`apiPath`) to its JSON answer. */
export const STATIC_DATA_GLOBAL = '__PALIMPSEST_INSPECT__';

/** The static page's data: the API answers it holds, by canonical API path, and when it was written (ms). */
export interface StaticData {
  readonly writtenAt: number;
  readonly responses: Readonly<Record<string, unknown>>;
}

const head = (title: string, css: string): string =>
  `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${title}</title>\n${css}\n</head>\n`;

/** The served page. */
export const serverPage = (): string =>
  `${head('palimpsest inspect', '<link rel="stylesheet" href="assets/app.css">')}<body>\n<div id="app"></div>\n<script src="assets/app.js"></script>\n</body>\n</html>\n`;

/** JSON safe inside a `<script>` element (`<` escaped, so no `</script>` or `<!--` can end it). */
export const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** The static page: the data, the script and the styles inline. */
export const staticPage = (data: StaticData, assets: InspectorAssets): string =>
  `${head('palimpsest inspect (static)', `<style>\n${assets.css.replace(/<\/style/gi, '<\\/style')}\n</style>`)}<body>\n<div id="app"></div>\n<script>window.${STATIC_DATA_GLOBAL} = ${scriptJson(data)};</script>\n<script>\n${assets.js.replace(/<\/script/gi, '<\\/script')}\n</script>\n</body>\n</html>\n`;
