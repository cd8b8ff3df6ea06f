/** The model arbitraries of `palimpsest/testing`, re-exported for the specs. */
export * from '../../src/testing/arbitraries/model.ts';
