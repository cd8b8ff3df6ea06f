#!/usr/bin/env node
// Entry point of the `palimpsest` command: runs the TypeScript CLI through tsx,
// so no build step is needed before first use.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
