/**
 * Model-based properties of system-context staging (machines.md §2).
 *
 * Random sequences of commands (valid and invalid, some not decodable) and
 * outside edits of the system prompt are folded the way the session does:
 * normalize staging requests, decode, step, keep the state on `Right`, and apply
 * a returned `systemPrompt` to the tracked prompt.
 *
 * - the machine laws (`laws.ts`) on every step: known tags, inert iff
 *   unchanged, every reachable state restores to itself;
 * - a returned `systemPrompt` always differs from the current one (so "no
 *   `systemPrompt` and the same state" is exactly "nothing changed");
 * - an idempotency key never renders twice into the prompt: each key's contents
 *   carry a marker, and no two segments carry the same marker;
 * - after steer cleanup no steer entry remains.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import type { StepResult } from '../../src/machines/common.ts';
import {
  SYSTEM_CONTEXT_SEPARATOR,
  SystemContextCommandCodec,
  initialSystemContext,
  normalizeAppendRequests,
  promptSegments,
  stepSystemContext,
  type SystemContextAppend,
  type SystemContextAppendRequest,
  type SystemContextContent,
  type SystemContextOutput,
  type SystemContextState,
} from '../../src/machines/systemContext.ts';
import { machines } from '../../src/machines/registry.ts';
import { checkRestoreTotal, checkStepLaws } from './laws.ts';

const types = [
  'system_context_staged',
  'system_context_marked_applied',
  'system_context_active_turn_discarded',
  'system_context_blocks_appended',
  'system_context_boundary',
  'runtime_steer_context_discarded',
] as const;
const keys = ['alpha', 'beta', 'gamma', '__proto__'] as const;
const marker = (key: string): string => `«${key}»`;

/** Content for a key carries the key's marker; unkeyed content never carries one. */
const arbContent = (key: string | undefined): fc.Arbitrary<SystemContextContent> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('v1', 'v2', ' v1 \n').map((v): SystemContextContent => ({ type: 'text', text: key === undefined ? `note ${v}` : `${marker(key)} ${v}` })) },
    { weight: 2, arbitrary: fc.constantFrom(1, 2).map((v): SystemContextContent => ({ type: 'json', value: { v, ...(key === undefined ? {} : { k: marker(key) }) } })) },
    { weight: 1, arbitrary: fc.constantFrom<SystemContextContent>({ type: 'text', text: '  \n' }, { type: 'text', text: `x${SYSTEM_CONTEXT_SEPARATOR}y` }, { type: 'text', text: 'z\n\n---' }) },
  );
const arbKey = fc.option(fc.oneof({ weight: 8, arbitrary: fc.constantFrom<string>(...keys) }, { weight: 1, arbitrary: fc.constant('') }), { freq: 4 });
const arbSource = fc.option(fc.oneof({ weight: 8, arbitrary: fc.constantFrom('monitor/disk', 'operator') }, { weight: 1, arbitrary: fc.constantFrom('', 'two\nlines') }), { freq: 2 });
const arbKind = fc.option(fc.constantFrom<'normal' | 'runtime_steer'>('normal', 'runtime_steer'), { freq: 3 });

const arbRequest: fc.Arbitrary<SystemContextAppendRequest> = fc.tuple(arbKey, arbSource, arbKind).chain(([key, source, kind]) =>
  arbContent(key ?? undefined).map((content) => ({
    content,
    ...(source === null ? {} : { source }),
    ...(key === null ? {} : { idempotencyKey: key }),
    ...(kind === null ? {} : { sourceKind: kind }),
  })),
);
const arbAppend: fc.Arbitrary<SystemContextAppend> = fc
  .tuple(arbRequest, fc.constantFrom(1, 2, 3))
  .map(([r, acceptedAt]) => ({ ...r, sourceKind: r.sourceKind ?? 'normal', acceptedAt }));

type Op =
  | { readonly op: 'stage'; readonly appends: SystemContextAppendRequest[]; readonly activeTurn: boolean }
  | { readonly op: 'mark' }
  | { readonly op: 'discard'; readonly keys: string[] | null }
  | { readonly op: 'blocks'; readonly appends: SystemContextAppend[] }
  | { readonly op: 'blocksFromState'; readonly which: 'pending' | 'applied' }
  | { readonly op: 'boundary' }
  | { readonly op: 'steers' }
  | { readonly op: 'setPrompt'; readonly prompt: string | undefined }
  | { readonly op: 'garbage'; readonly type: string; readonly payload: unknown };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ appends: fc.array(arbRequest, { minLength: 1, maxLength: 3 }), activeTurn: fc.boolean() }).map((r): Op => ({ op: 'stage', ...r })) },
  { weight: 2, arbitrary: fc.constant<Op>({ op: 'mark' }) },
  { weight: 2, arbitrary: fc.option(fc.subarray([...keys, 'zzz']), { freq: 2 }).map((k): Op => ({ op: 'discard', keys: k })) },
  { weight: 3, arbitrary: fc.array(arbAppend, { minLength: 0, maxLength: 3 }).map((appends): Op => ({ op: 'blocks', appends })) },
  { weight: 2, arbitrary: fc.constantFrom<'pending' | 'applied'>('pending', 'applied').map((which): Op => ({ op: 'blocksFromState', which })) },
  { weight: 3, arbitrary: fc.constant<Op>({ op: 'boundary' }) },
  { weight: 2, arbitrary: fc.constant<Op>({ op: 'steers' }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, '', 'You are a release assistant.', 'Base\n\nwith a paragraph').map((prompt): Op => ({ op: 'setPrompt', prompt })) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.oneof(fc.constantFrom<string>(...types), fc.string()), payload: fc.anything({ maxDepth: 2 }) }).map((r): Op => ({ op: 'garbage', ...r })),
  },
);

/** A cheap assertion (vitest's `expect` dominates the run time in a hot loop). */
const check = (ok: boolean, what: string): void => {
  if (!ok) throw new Error(what);
};


const commandOf = (op: Exclude<Op, { op: 'setPrompt' }>, state: SystemContextState): unknown => {
  switch (op.op) {
    case 'stage':
      return { type: 'system_context_staged', appends: normalizeAppendRequests(op.appends), activeTurn: op.activeTurn };
    case 'mark':
      return { type: 'system_context_marked_applied' };
    case 'discard':
      return op.keys === null ? { type: 'system_context_active_turn_discarded' } : { type: 'system_context_active_turn_discarded', keys: op.keys };
    case 'blocks':
      return { type: 'system_context_blocks_appended', appends: op.appends };
    case 'blocksFromState':
      return { type: 'system_context_blocks_appended', appends: state[op.which] };
    case 'boundary':
      return { type: 'system_context_boundary' };
    case 'steers':
      return { type: 'runtime_steer_context_discarded' };
    case 'garbage':
      return op.payload !== null && typeof op.payload === 'object' && !Array.isArray(op.payload) ? { ...op.payload, type: op.type } : { type: op.type, value: op.payload };
  }
};

describe('system context: model-based properties', () => {
  it('never throws, keeps restorable states, is inert iff unchanged, and renders each key at most once', () => {
    fc.assert(
      fc.property(fc.constantFrom(undefined, '', 'You are a release assistant.'), fc.array(arbOp, { maxLength: 30, size: 'max' }), (initialPrompt, ops) => {
        let state: SystemContextState = initialSystemContext;
        let prompt: string | undefined = initialPrompt;
        let at = 1;
        for (const op of ops) {
          if (op.op === 'setPrompt') {
            // An outside system_prompt_set (or a rewrite dropping the system message).
            prompt = op.prompt;
            continue;
          }
          const raw = commandOf(op, state);
          const decoded = decodeWith(SystemContextCommandCodec, raw);
          const r: E.Either<{ readonly _tag: string; readonly message: string }, StepResult<SystemContextState, SystemContextOutput<unknown>>> = E.isLeft(decoded)
            ? decoded
            : stepSystemContext(state, decoded.right, { sessionId: 's', seq: at, at }, { systemPrompt: prompt });
          checkStepLaws(machines.systemContext, state, r, `after ${JSON.stringify(raw)}`);
          if (E.isLeft(r)) continue;
          const next = r.right.state;
          const newPrompt = r.right.result.systemPrompt;
          // A prompt change is a real change.
          check(newPrompt === undefined || newPrompt !== prompt, `a no-op prompt change after ${JSON.stringify(raw)}`);
          if (next !== state || newPrompt !== undefined) at++;
          state = next;
          if (newPrompt !== undefined) prompt = newPrompt;

          const segments = promptSegments(prompt);
          for (const key of keys) {
            const n = segments.filter((s) => s.includes(marker(key))).length;
            if (n > 1) throw new Error(`key ${key} rendered ${n} times after ${JSON.stringify(raw)}:\n${prompt}`);
          }
          if (E.isRight(decoded) && decoded.right.type === 'runtime_steer_context_discarded') {
            check([...state.pending, ...state.applied, ...state.seen].every((x) => x.sourceKind === 'normal'), 'a steer entry survived cleanup');
          }
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('system context: restore is total', () => {
  it('never throws on arbitrary input; fails only with MachineStateInvalid', () => {
    const arbSeen = fc.record(
      { idempotencyKey: fc.constantFrom('alpha', 'beta', ''), content: arbContent('alpha'), sourceKind: fc.constantFrom('normal', 'runtime_steer'), state: fc.constantFrom('pending', 'applied'), source: fc.constantFrom('op', '') },
      { requiredKeys: ['idempotencyKey', 'content', 'sourceKind', 'state'] },
    );
    const arbState = fc.record({
      pending: fc.array(arbAppend, { maxLength: 3 }),
      applied: fc.array(arbAppend, { maxLength: 3 }),
      seen: fc.array(arbSeen, { maxLength: 3 }),
      activeTurnPendingKeys: fc.array(fc.constantFrom(...keys), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(arbState, (u) => checkRestoreTotal(machines.systemContext, u)),
      { numRuns: 1000 },
    );
  });
});
