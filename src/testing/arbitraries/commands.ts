/**
 * fast-check arbitraries for command sequences: lists of core session commands
 * (`messages_appended`, `transcript_rewritten`, `system_prompt_set`,
 * `synthetic_notices_replaced`, `metadata_set`, `metadata_removed`,
 * `usage_recorded`) as a caller passes them to `Session.apply`.
 *
 * The sequence is built against a model of the transcript as turns (see
 * `arbTurn`), so rewrites select spans on turn boundaries inside the current
 * length and nearly every command is accepted; the few that are refused (a
 * rewrite that changes nothing, a notice refresh that changes nothing) are
 * refused by the session, which is part of what `checkReplay` exercises.
 */
import fc from 'fast-check';
import type { Json, Message } from '../../model/index.ts';
import type { SessionCommand } from '../../session/index.ts';
import { arbJson } from './model.ts';
import { arbTurn } from './transcript.ts';

/** An abstract step; turn positions are resolved against the model when the sequence is built. */
type Step =
  | { readonly op: 'append'; readonly turns: Message[][] }
  | { readonly op: 'rewrite'; readonly a: number; readonly b: number; readonly turns: Message[][] }
  | { readonly op: 'system'; readonly prompt: string }
  | { readonly op: 'notices'; readonly kind: string; readonly texts: string[] }
  | { readonly op: 'meta'; readonly key: string; readonly value: Json }
  | { readonly op: 'unmeta'; readonly key: string }
  | { readonly op: 'usage'; readonly input: number; readonly output: number };

const metaKey = fc.constantFrom('a', 'b', 'c');
const noticeKind = fc.constantFrom('generic', 'external_event');

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('append' as const), turns: fc.array(arbTurn, { minLength: 1, maxLength: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rewrite' as const), a: fc.nat(), b: fc.nat(), turns: fc.array(arbTurn, { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('system' as const), prompt: fc.string({ maxLength: 12 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('notices' as const), kind: noticeKind, texts: fc.array(fc.string({ maxLength: 6 }), { maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('meta' as const), key: metaKey, value: arbJson }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmeta' as const), key: metaKey }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('usage' as const), input: fc.nat({ max: 10_000 }), output: fc.nat({ max: 10_000 }) }) },
);

/** Message index of the start of turn `k`. */
const indexOfTurn = (turns: readonly Message[][], k: number): number => turns.slice(0, k).reduce((n, t) => n + t.length, 0);

const isNoticeOf = (kind: string) => (t: readonly Message[]): boolean => t.length === 1 && t[0]!.role === 'system_notice' && t[0]!.kind === kind;

/** Folds abstract steps into concrete commands, tracking the transcript as turns. */
const toCommands = (steps: readonly Step[]): SessionCommand[] => {
  let turns: Message[][] = [];
  const out: SessionCommand[] = [];
  for (const s of steps) {
    switch (s.op) {
      case 'append':
        out.push({ type: 'messages_appended', messages: s.turns.flat() } as SessionCommand);
        turns = [...turns, ...s.turns];
        break;
      case 'rewrite': {
        // turn positions modulo the turn count: the span and the replacement are whole turns, so the result is shape-valid
        const [x, y] = [s.a % (turns.length + 1), s.b % (turns.length + 1)];
        const [from, to] = x <= y ? [x, y] : [y, x];
        const selection = { type: 'message_range' as const, start: indexOfTurn(turns, from), end: indexOfTurn(turns, to) };
        out.push({ type: 'transcript_rewritten', selection, replacement: s.turns.flat(), reason: { kind: 'compaction' } } as SessionCommand);
        turns = [...turns.slice(0, from), ...s.turns, ...turns.slice(to)];
        break;
      }
      case 'system': {
        out.push({ type: 'system_prompt_set', prompt: s.prompt });
        const first = turns[0]?.[0];
        const sys: Message[] = [{ role: 'system', text: s.prompt, createdAt: 0 }];
        turns = first?.role === 'system' ? [sys, ...turns.slice(1)] : [sys, ...turns];
        break;
      }
      case 'notices': {
        const replacements = s.texts.map((text): Message => ({ role: 'system_notice', kind: s.kind, text, createdAt: 0 }));
        out.push({ type: 'synthetic_notices_replaced', kind: s.kind, replacements } as SessionCommand);
        turns = [...turns.filter((t) => !isNoticeOf(s.kind)(t)), ...replacements.map((m) => [m])];
        break;
      }
      case 'meta':
        out.push({ type: 'metadata_set', key: s.key, value: s.value });
        break;
      case 'unmeta':
        out.push({ type: 'metadata_removed', key: s.key });
        break;
      case 'usage':
        out.push({ type: 'usage_recorded', usage: { inputTokens: s.input, outputTokens: s.output } });
        break;
    }
  }
  return out;
};

/** Options of `arbCommandSequence`. */
export interface CommandSequenceOptions {
  /** Most commands (default 20). */
  readonly maxCommands?: number;
}

/** A list of core session commands, nearly all of which a fresh session accepts in order. */
export const arbCommandSequence = ({ maxCommands = 20 }: CommandSequenceOptions = {}): fc.Arbitrary<SessionCommand[]> =>
  fc.array(arbStep, { maxLength: maxCommands }).map(toCommands);
