/**
 * Id-keyed records must be null-prototype objects: immer writes a new key with a
 * plain assignment on its copy, and on an ordinary object the key `__proto__`
 * would change the prototype instead of adding an entry. States built by this
 * machine (initial state, codec, restore, step) already are; this guard converts
 * a state a caller assembled by hand before any write.
 */
import { emptyDict, type RealtimeState } from './codecs.ts';

const copy = <A>(rec: Readonly<Record<string, A>>): Record<string, A> => {
  const out = emptyDict<A>();
  for (const k of Object.keys(rec)) out[k] = rec[k] as A;
  return out;
};

/** `state` itself when its `items` and `completions` have null prototypes, else a converted copy (segment keys are decimals, harmless). */
export const withNullProtoDicts = (state: RealtimeState): RealtimeState => {
  const itemsOk = Object.getPrototypeOf(state.items) === null;
  const completionsOk = Object.getPrototypeOf(state.completions) === null;
  if (itemsOk && completionsOk) return state;
  return {
    ...state,
    items: itemsOk ? state.items : copy(state.items),
    completions: completionsOk ? state.completions : copy(state.completions),
  };
};
