/**
 * Model-based properties of the deferred-first-turn machine (machines.md §1).
 *
 * Random sequences of commands (valid and invalid, some not even decodable),
 * interleaved with message appends (which commit the newest turn start), are
 * folded the way the session does: decode, step, keep the state on `Right`.
 *
 * - the machine laws (`laws.ts`) on every step: known tags, inert iff
 *   unchanged, every reachable state (also after a message commits the turn
 *   start) restores to itself; `turn_started` is never inert;
 * - no tool result is lost or handed out twice: every accepted result is, at all
 *   times, exactly once in the queue, in the newest uncommitted start, or delivered;
 *   the queue stays in acceptance order;
 * - a stored prompt implies `pending`; overrides are allowed iff `pending`.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import type { StepResult } from '../../src/machines/common.ts';
import type { ContentBlock } from '../../src/model/content.ts';
import {
  DeferredTurnCommandCodec,
  commitTurnStart,
  firstTurnOverridesAllowed,
  initialDeferredTurn,
  restoreDeferredTurn,
  stepDeferredTurn,
  type DeferredTurnState,
  type StagedResults,
} from '../../src/machines/deferredTurn.ts';
import { machines } from '../../src/machines/registry.ts';
import { checkRestoresToItself, checkRestoreTotal, checkStepLaws } from './laws.ts';

const types = ['first_turn_deferred', 'initial_prompt_staged', 'tool_results_staged', 'turn_started', 'turn_start_reverted'] as const;

const prompts: ContentBlock[][] = [
  [],
  [{ type: 'text', text: '' }],
  [{ type: 'text', text: ' \n\t' }],
  [{ type: 'text', text: 'draft the release notes' }],
  [{ type: 'text', text: ' ' }, { type: 'structured', data: { ticket: 42 } }],
  [{ type: 'image', mediaType: 'image/png', source: { type: 'inline', data: 'AAEC' } }],
];

type Op =
  | { readonly op: 'defer' }
  | { readonly op: 'prompt'; readonly which: number }
  | { readonly op: 'results'; readonly n: number }
  | { readonly op: 'start' }
  | { readonly op: 'revert'; readonly target: 'last' | number }
  | { readonly op: 'message' }
  | { readonly op: 'garbage'; readonly type: string; readonly payload: unknown };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Op>({ op: 'defer' }) },
  { weight: 3, arbitrary: fc.nat(prompts.length - 1).map((which): Op => ({ op: 'prompt', which })) },
  { weight: 4, arbitrary: fc.nat(3).map((n): Op => ({ op: 'results', n })) },
  { weight: 3, arbitrary: fc.constant<Op>({ op: 'start' }) },
  { weight: 3, arbitrary: fc.oneof(fc.constant<'last'>('last'), fc.integer({ min: 0, max: 12 })).map((target): Op => ({ op: 'revert', target })) },
  { weight: 2, arbitrary: fc.constant<Op>({ op: 'message' }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.oneof(fc.constantFrom<string>(...types), fc.string()), payload: fc.anything({ maxDepth: 2 }) }).map((r): Op => ({ op: 'garbage', ...r })),
  },
);

/** A cheap assertion (vitest's `expect` dominates the run time in a hot loop). */
const check = (ok: boolean, what: string): void => {
  if (!ok) throw new Error(what);
};

const ids = (batches: readonly StagedResults[]): string[] => batches.flatMap((b) => b.results.map((r) => r.toolUseId));

describe('deferred first turn: model-based properties', () => {
  it('never throws, keeps restorable states, is inert iff unchanged, and never loses or duplicates an input', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 30, size: 'max' }), (ops) => {
        let state: DeferredTurnState = initialDeferredTurn;
        let seq = 1;
        let hasConversation = false;
        let nextId = 0;
        const accepted: string[] = [];
        const delivered: string[] = [];
        for (const op of ops) {
          const before = state;
          if (op.op === 'message') {
            if (state.lastStart !== undefined) delivered.push(...ids(state.lastStart.consumed.toolResults));
            const next = commitTurnStart(state);
            check(next.lastStart === undefined && (next === state) === (state.lastStart === undefined), 'commitTurnStart');
            state = next;
            hasConversation = true;
            seq++;
          } else {
            let raw: unknown;
            switch (op.op) {
              case 'defer':
                raw = { type: 'first_turn_deferred' };
                break;
              case 'prompt':
                raw = { type: 'initial_prompt_staged', prompt: prompts[op.which] };
                break;
              case 'results':
                raw = {
                  type: 'tool_results_staged',
                  results: Array.from({ length: op.n }, (_, i) => ({ toolUseId: `call_${nextId + i}`, content: [{ type: 'text', text: 'ok' }], isError: i % 2 === 1 })),
                };
                break;
              case 'start':
                raw = { type: 'turn_started' };
                break;
              case 'revert':
                raw = { type: 'turn_start_reverted', startSeq: op.target === 'last' ? (state.lastStart?.seq ?? seq) : op.target };
                break;
              case 'garbage':
                raw = op.payload !== null && typeof op.payload === 'object' && !Array.isArray(op.payload) ? { ...op.payload, type: op.type } : { type: op.type, value: op.payload };
                break;
            }
            const ctx = { sessionId: 's', seq, at: seq * 10 };
            const decoded = decodeWith(DeferredTurnCommandCodec, raw);
            const r: E.Either<{ readonly _tag: string; readonly message: string }, StepResult<DeferredTurnState, unknown>> = E.isLeft(decoded)
              ? decoded
              : stepDeferredTurn(state, decoded.right, ctx, { hasConversationMessages: hasConversation });
            checkStepLaws(machines.deferredTurn, state, r, `after ${JSON.stringify(raw)}`);
            if (E.isLeft(r)) continue;
            const cmd = E.isRight(decoded) ? decoded.right : undefined;
            const next = r.right.state;
            if (cmd?.type === 'turn_started') {
              check(next !== state && r.right.result === next.lastStart?.consumed && next.lastStart?.seq === seq, 'turn_started');
              if (state.lastStart !== undefined) delivered.push(...ids(state.lastStart.consumed.toolResults));
            }
            if (cmd?.type === 'tool_results_staged') {
              check((r.right.result as { accepted: number }).accepted === cmd.results.length, 'accepted');
              accepted.push(...cmd.results.map((x) => x.toolUseId));
              nextId += cmd.results.length;
            }
            if (next !== state) seq++;
            state = next;
          }
          // A state reached by a message (which commits the turn start) restores to itself too.
          if (op.op === 'message' && state !== before) checkRestoresToItself(machines.deferredTurn, state, 'after a message');
          // Conservation of tool results, in acceptance order.
          const held = [...ids(state.toolResults), ...(state.lastStart === undefined ? [] : ids(state.lastStart.consumed.toolResults)), ...delivered];
          check(held.length === accepted.length && new Set(held).size === held.length && new Set([...held, ...accepted]).size === accepted.length, `tool results lost or duplicated: held ${held.join()} accepted ${accepted.join()}`);
          const times = state.toolResults.map((b) => b.acceptedAt);
          check(times.every((t, i) => i === 0 || times[i - 1]! < t), 'queue out of acceptance order');
          check(firstTurnOverridesAllowed(state) === (state.phase === 'pending'), 'overrides');
          check(state.initialPrompt === undefined || state.phase === 'pending', 'prompt outside pending');
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('deferred first turn: restore is total', () => {
  it('never throws on arbitrary input; fails only with MachineStateInvalid', () => {
    const arbBatch = fc.record({ results: fc.array(fc.record({ toolUseId: fc.constantFrom('a', ''), content: fc.constant([]), isError: fc.boolean() }), { maxLength: 2 }), acceptedAt: fc.integer({ min: -2, max: 5 }) });
    const arbPrompt = fc.record({ prompt: fc.constantFrom(...prompts), acceptedAt: fc.integer({ min: -1, max: 5 }) });
    const arbState = fc.record(
      {
        phase: fc.constantFrom('inactive', 'pending', 'consumed', 'started'),
        toolResults: fc.array(arbBatch, { maxLength: 2 }),
        initialPrompt: arbPrompt,
        lastStart: fc.record({
          seq: fc.integer({ min: 0, max: 3 }),
          consumed: fc.record(
            { startSeq: fc.integer({ min: 0, max: 3 }), reopenFirstTurn: fc.boolean(), toolResults: fc.array(arbBatch, { maxLength: 2 }), initialPrompt: arbPrompt },
            { requiredKeys: ['startSeq', 'reopenFirstTurn', 'toolResults'] },
          ),
        }),
      },
      { requiredKeys: ['phase', 'toolResults'] },
    );
    fc.assert(
      fc.property(fc.oneof(arbState, fc.anything()), (u) => {
        checkRestoreTotal(machines.deferredTurn, u);
        const r = restoreDeferredTurn(u);
        if (E.isRight(r)) {
          const s = r.right;
          check(s.initialPrompt === undefined || s.phase === 'pending', 'accepted a prompt outside pending');
          check(s.lastStart === undefined || s.lastStart.seq === s.lastStart.consumed.startSeq, 'accepted a mismatched lastStart');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
