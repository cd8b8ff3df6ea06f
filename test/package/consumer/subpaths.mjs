// Imports every subpath the installed package exports (read from its
// package.json), so a new subpath is covered without editing this file.
// Prints one JSON line: { "<subpath>": <number of exports> }.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./node_modules/palimpsest/package.json', import.meta.url), 'utf8'));
const out = {};
for (const subpath of Object.keys(pkg.exports)) {
  if (subpath === './package.json') continue;
  const specifier = subpath === '.' ? 'palimpsest' : `palimpsest/${subpath.slice(2)}`;
  out[specifier] = Object.keys(await import(specifier)).length;
}
console.log(JSON.stringify(out));
