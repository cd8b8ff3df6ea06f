/**
 * Machines as values (`machines/registry.ts`): a machine defined here, outside
 * `src/`, joins a registry value next to the registered machines and is then
 * routed by the reducer, folds its output into the session, is guarded by the
 * lifecycle, reacts to appends, is reset by forks, is snapshotted and restored
 * under its reserved key and is law-checked — with no edit anywhere else. The
 * registered machines' own routing is left untouched (no global state).
 */
import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeWith, dispatch, literal, nat, str, strict } from '../../src/model/decode.ts';
import { userText } from '../../src/model/index.ts';
import { transcriptMessages } from '../../src/transcript/index.ts';
import { machineStateInvalid, stateDecodeFailed, stepOk, type StepContext, type StepResult } from '../../src/machines/common.ts';
import {
  commandCodecsOf,
  commandOwnersOf,
  defineMachine,
  entriesOf,
  machineRouting,
  machineSnapshotEntriesOf,
  machines,
  reservedKeysOf,
  restoreStatesOf,
  routingOf,
  type ParamsOf,
} from '../../src/machines/registry.ts';
import { coreCommandCodecs, decodeCommand } from '../../src/session/commands.ts';
import { isReservedKey } from '../../src/session/metadata.ts';
import { applyAtWith, forkedStateWith } from '../../src/session/reduce.ts';
import { blankStateOf } from '../../src/session/state.ts';
import { checkMachineLaws } from '../../spec/machines/laws.ts';

// ---------------------------------------------------------------------------
// A toy machine, written as a machine module would be

const TallyStateCodec = strict('TallyState', { count: nat, appended: nat });
type TallyState = t.TypeOf<typeof TallyStateCodec>;

const tallyCommandCodecs = {
  tally_bumped: strict('TallyBumped', { type: literal('tally_bumped'), by: nat }),
  tally_noted: strict('TallyNoted', { type: literal('tally_noted'), text: str }),
} as const;
type TallyCommand = t.TypeOf<(typeof tallyCommandCodecs)[keyof typeof tallyCommandCodecs]>;

interface TallyResults {
  /** The count after the command and the transcript length the step saw. */
  readonly tally_bumped: { readonly count: number; readonly messages: number };
  readonly tally_noted: undefined;
}

interface TallyOverflow {
  readonly _tag: 'TallyOverflow';
  readonly message: string;
}

/** What the step hands its fold. */
type TallyStepResult = { readonly kind: 'bumped'; readonly count: number; readonly messages: number } | { readonly kind: 'noted'; readonly text: string };

/** The step: `tally_bumped` adds `by` (0 is inert; past 10 is `TallyOverflow`); `tally_noted` asks the session to append a notice. */
const stepTally = (state: TallyState, command: TallyCommand, _ctx: StepContext, messages: number): E.Either<TallyOverflow, StepResult<TallyState, TallyStepResult>> => {
  switch (command.type) {
    case 'tally_bumped': {
      if (state.count + command.by > 10) return E.left<TallyOverflow>({ _tag: 'TallyOverflow', message: `tally would pass 10 (${state.count} + ${command.by})` });
      const next = command.by === 0 ? state : { ...state, count: state.count + command.by };
      return stepOk(next, { kind: 'bumped', count: next.count, messages });
    }
    case 'tally_noted':
      return stepOk(state, { kind: 'noted', text: command.text });
  }
};

const tally = defineMachine<TallyResults>()({
  name: 'tally',
  initial: { count: 0, appended: 0 } as TallyState,
  commandCodecs: tallyCommandCodecs,
  step: stepTally,
  restore: (u) => {
    const d = decodeWith(TallyStateCodec, u);
    if (E.isLeft(d)) return E.left(stateDecodeFailed('tally', d.left));
    return d.right.count > 10 ? E.left(machineStateInvalid('tally', 'count above 10')) : d;
  },
  errorTags: ['TallyOverflow'],
  initialView: 0,
  view: (session) => transcriptMessages(session.transcript).length,
  fold: (r) => (r.kind === 'bumped' ? { result: { count: r.count, messages: r.messages } } : { result: undefined, effects: { messages: [{ role: 'system_notice', kind: 'tally', text: r.text, createdAt: 0 }] } }),
  onMessagesAppended: (state, messages) => ({ ...state, appended: state.appended + messages.length }),
  laws: {
    command: (pick): TallyCommand => (pick.bool() ? { type: 'tally_bumped', by: pick.int(0, 6) } : { type: 'tally_noted', text: pick.one(['a', '']) }),
    view: (pick) => pick.int(0, 3),
  },
});

const withTally = { ...machines, tally };
type WithTally = ParamsOf<typeof withTally>;
const routing = routingOf<WithTally>(withTally);

/** The command codec of a session over `withTally`: core commands and every machine's. */
const CommandCodec = dispatch('Command', 'type', { ...coreCommandCodecs, ...commandCodecsOf<WithTally>(withTally) });
const decode = (u: unknown) => {
  const d = decodeWith(CommandCodec, u);
  if (E.isLeft(d)) throw new Error(d.left.message);
  return d.right;
};

const ctx = (seq: number): StepContext => ({ sessionId: 's1', seq, at: 1_000 + seq });

/** Applies raw commands in order from a blank state; returns every state and result. */
const run = (commands: readonly unknown[]) => {
  let state = blankStateOf<WithTally>(withTally, 's1');
  const out: { state: typeof state; result: unknown }[] = [];
  for (const raw of commands) {
    const r = applyAtWith(routing, state, decode(raw), ctx(state.seq + 1));
    if (E.isLeft(r)) return { states: out, error: r.left };
    state = r.right.state;
    out.push(r.right);
  }
  return { states: out, error: undefined };
};

describe('a machine defined outside src/ joins a registry value', () => {
  it('routes its commands to its step, with the view built from the session, and folds its effects into the session', () => {
    const { states, error } = run([
      { type: 'session_created', metadata: {} },
      { type: 'messages_appended', messages: [userText('hi', { createdAt: 1 })] },
      { type: 'tally_bumped', by: 3 },
      { type: 'tally_noted', text: 'three so far' },
    ]);
    expect(error).toBeUndefined();
    const [, appended, bumped, noted] = states;
    expect(bumped!.result).toEqual({ count: 3, messages: 1 });
    expect(bumped!.state.tally.count).toBe(3);
    // The effect went through the session's one append path: the notice is in the transcript and every
    // machine with onMessagesAppended (the tally itself here) saw it.
    expect(transcriptMessages(noted!.state.transcript).map((m) => m.role)).toEqual(['user', 'system_notice']);
    expect(appended!.state.tally.appended).toBe(1);
    expect(noted!.state.tally.appended).toBe(2);
    // The registered machines are still there and untouched.
    expect(noted!.state.deferredTurn).toBe(machines.deferredTurn.initial);
  });

  it('keeps an inert step inert and returns its errors as values', () => {
    const { states } = run([{ type: 'session_created', metadata: {} }, { type: 'tally_bumped', by: 2 }]);
    const s = states[1]!.state;
    const inert = applyAtWith(routing, s, decode({ type: 'tally_bumped', by: 0 }), ctx(3));
    expect(E.isRight(inert) && inert.right.state).toBe(s);
    const overflow = applyAtWith(routing, s, decode({ type: 'tally_bumped', by: 9 }), ctx(3));
    expect(E.isLeft(overflow) && overflow.left._tag).toBe('TallyOverflow');
  });

  it('is guarded by the other machines: an archived session refuses its commands until revived', () => {
    const { error } = run([{ type: 'session_created', metadata: {} }, { type: 'session_archived' }, { type: 'tally_bumped', by: 1 }]);
    expect(error?._tag).toBe('SessionArchived');
    const revived = run([{ type: 'session_created', metadata: {} }, { type: 'session_archived' }, { type: 'session_revived' }, { type: 'tally_bumped', by: 1 }]);
    expect(revived.error).toBeUndefined();
  });

  it('is reset by a fork, like every machine', () => {
    const { states } = run([{ type: 'session_created', metadata: {} }, { type: 'tally_bumped', by: 4 }]);
    const parent = { ...states[1]!.state, head: 'sha256:'.padEnd(71, 'a') as `sha256:${string}` };
    const genesis = decode({ type: 'session_forked', from: { sessionId: 's1', seq: 2, hash: parent.head }, mode: 'full' });
    if (genesis.type !== 'session_forked') throw new Error(`decoded ${genesis.type}`);
    const child = forkedStateWith(routing, 'c1', genesis, ctx(1), parent);
    expect(E.isRight(child) && child.right.tally).toEqual(tally.initial);
    expect(E.isRight(child) && transcriptMessages(child.right.transcript)).toEqual(transcriptMessages(parent.transcript));
  });

  it('is snapshotted under its reserved key and restored, and a bad stored state fails naming it', () => {
    const { states } = run([{ type: 'session_created', metadata: {} }, { type: 'tally_bumped', by: 5 }, { type: 'tally_noted', text: 'x' }]);
    const state = states[2]!.state;
    expect(reservedKeysOf<WithTally>(withTally).tally).toBe('palimpsest.tally');
    expect(isReservedKey(reservedKeysOf<WithTally>(withTally).tally)).toBe(true);
    const stored = new Map(JSON.parse(JSON.stringify(machineSnapshotEntriesOf<WithTally>(withTally, state))) as [string, unknown][]);
    expect(stored.get('palimpsest.tally')).toEqual({ count: 5, appended: 1 });
    const restored = restoreStatesOf<WithTally>(withTally, (key) => stored.get(key));
    expect(E.isRight(restored) && restored.right.tally).toEqual(state.tally);
    expect(E.isRight(restored) && restored.right.systemContext).toEqual(state.systemContext);
    stored.set('palimpsest.tally', { count: 11, appended: 0 });
    const bad = restoreStatesOf<WithTally>(withTally, (key) => stored.get(key));
    expect(E.isLeft(bad) && bad.left).toMatchObject({ key: 'palimpsest.tally', error: { _tag: 'MachineStateInvalid', machine: 'tally', reason: 'count above 10' } });
  });

  it('is law-checked by the one harness, from its own samples', () => {
    checkMachineLaws(tally, { numRuns: 100 });
    expect(entriesOf<WithTally>(withTally).map((m) => m.name)).toEqual(['deferredTurn', 'systemContext', 'toolVisibility', 'realtime', 'lifecycle', 'tally']);
  });

  it('changes nothing for the registered machines (no global registry)', () => {
    expect(machineRouting.owners.has('tally_bumped')).toBe(false);
    expect(routing.owners.get('tally_bumped')).toBe('tally');
    expect(E.isLeft(decodeCommand({ type: 'tally_bumped', by: 1 }))).toBe(true);
  });

  it('refuses a registry in which two machines own one command type', () => {
    const twin = defineMachine<TallyResults>()({ ...tally, name: 'twin' });
    const clash = { ...machines, tally, twin };
    expect(() => commandOwnersOf<ParamsOf<typeof clash>>(clash)).toThrow(/tally_bumped is owned by both tally and twin/);
  });
});
