/**
 * The machine laws (`laws.ts`) over every entry of the machine registry, each
 * with the law samples its entry carries (`MachineEntry.laws`): a machine added
 * to the registry is law-checked here without editing this file. Each machine's
 * own spec runs its model on top.
 */
import { describe, it } from 'vitest';
import { entriesOf, registry, type RegisteredParams } from '../../src/machines/registry.ts';
import { checkMachineLaws } from './laws.ts';

describe('machine laws, over every registered machine', () => {
  for (const entry of entriesOf<RegisteredParams>(registry)) {
    it(`${entry.name}: never throws, fails only with its tags, is inert iff unchanged, restores every reachable state, restore is total`, () => checkMachineLaws(entry));
  }
});
