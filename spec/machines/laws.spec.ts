/**
 * The machine laws (`laws.ts`) over every entry of the machine registry. The
 * inputs table is keyed by the registry's names, so a machine added to the
 * registry without inputs here does not type-check. Inputs are small alphabets
 * of well-formed commands (names, keys and ids collide often, so state builds
 * up) plus malformed ones; each machine's own spec runs its model on top.
 */
import { describe, it } from 'vitest';
import fc from 'fast-check';
import { machines, type RegisteredMachine } from '../../src/machines/registry.ts';
import { checkMachineLaws } from './laws.ts';

/** A command whose `type` is one of `types` or anything, with arbitrary members. */
const garbage = (types: readonly string[]): fc.Arbitrary<unknown> =>
  fc
    .record({ type: fc.oneof(fc.constantFrom(...types), fc.string()), payload: fc.anything({ maxDepth: 2 }) })
    .map((r) => (r.payload !== null && typeof r.payload === 'object' && !Array.isArray(r.payload) ? { ...r.payload, type: r.type } : { type: r.type, value: r.payload }));

const mix = (good: fc.Arbitrary<unknown>, types: readonly string[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 9, arbitrary: good }, { weight: 1, arbitrary: garbage(types) });

const text = fc.constantFrom('', ' ', 'draft the release notes', '«alpha» v1', 'x\n\n---y');
const key = fc.constantFrom('alpha', 'beta', '__proto__', '');

const prompt = fc.array(fc.oneof(text.map((t) => ({ type: 'text', text: t })), fc.constant({ type: 'structured', data: { ticket: 42 } })), { maxLength: 2 });
const toolResult = fc.record({ toolUseId: fc.constantFrom('call_1', 'call_2', ''), content: fc.constant([{ type: 'text', text: 'ok' }]), isError: fc.boolean() });

const deferredTurnCommands = mix(
  fc.oneof(
    fc.constant({ type: 'first_turn_deferred' }),
    prompt.map((p) => ({ type: 'initial_prompt_staged', prompt: p })),
    fc.array(toolResult, { maxLength: 2 }).map((results) => ({ type: 'tool_results_staged', results })),
    fc.constant({ type: 'turn_started' }),
    fc.integer({ min: 0, max: 12 }).map((startSeq) => ({ type: 'turn_start_reverted', startSeq })),
  ),
  Object.keys(machines.deferredTurn.commandCodecs),
);

const contextRequest = fc.record(
  {
    content: fc.oneof(text.map((t) => ({ type: 'text', text: t })), fc.constantFrom(1, 2).map((v) => ({ type: 'json', value: { v } }))),
    idempotencyKey: key,
    source: fc.constantFrom('operator', 'monitor/disk', ''),
    sourceKind: fc.constantFrom('normal', 'runtime_steer'),
  },
  { requiredKeys: ['content', 'sourceKind'] },
);
const systemContextCommands = mix(
  fc.oneof(
    fc.record({ appends: fc.array(contextRequest, { minLength: 1, maxLength: 3 }), activeTurn: fc.boolean() }).map((r) => ({ type: 'system_context_staged', ...r })),
    fc.constant({ type: 'system_context_marked_applied' }),
    fc.option(fc.subarray(['alpha', 'beta', 'zzz']), { nil: undefined }).map((keys) => ({ type: 'system_context_active_turn_discarded', ...(keys === undefined ? {} : { keys }) })),
    fc
      .array(fc.tuple(contextRequest, fc.constantFrom(1, 2, 3)).map(([r, acceptedAt]) => ({ ...r, acceptedAt })), { maxLength: 3 })
      .map((appends) => ({ type: 'system_context_blocks_appended', appends })),
    fc.constant({ type: 'system_context_boundary' }),
    fc.constant({ type: 'runtime_steer_context_discarded' }),
  ),
  Object.keys(machines.systemContext.commandCodecs),
);

const NAMES = ['read_file', 'grep', 'find_tools', 'jira_create', 'jira_search'];
const provenance = fc.constantFrom({ kind: 'builtin', sourceId: 'core' }, { kind: 'mcp', sourceId: 'jira-prod' });
const catalog = fc.shuffledSubarray(NAMES).chain((names) =>
  fc.array(fc.option(provenance, { nil: undefined }), { minLength: names.length, maxLength: names.length }).map((ps) => ({
    tools: names
      .map((name, i) => ({ name, description: name, inputSchema: {}, ...(ps[i] === undefined ? {} : { provenance: ps[i] }) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    controlNames: names.filter((n) => n === 'find_tools'),
    deferredNames: names.filter((n) => n.startsWith('jira')).sort(),
  })),
);
const names = fc.subarray([...NAMES, 'zzz']);
const filter = fc.oneof(fc.constant({ type: 'all' }), names.map((n) => ({ type: 'allow', names: n })), names.map((n) => ({ type: 'deny', names: n })));
const requests = fc.array(fc.record({ name: fc.constantFrom(...NAMES, 'zzz'), provenance }, { requiredKeys: ['name'] }), { maxLength: 2 });
const toolVisibilityCommands = mix(
  fc.oneof(
    fc.record({ filter, catalog }).map((r) => ({ type: 'tool_filter_staged', ...r })),
    fc.record({ filter, witnesses: fc.array(fc.record({ name: fc.constantFrom(...NAMES), provenance }), { maxLength: 2 }) }).map((r) => ({ type: 'tool_inherited_filter_set', ...r })),
    fc.record({ requests, catalog }).map((r) => ({ type: 'tool_deferred_requested', ...r })),
    fc.constant({ type: 'tool_deferred_requests_cleared' }),
    fc.boolean().map((imageToolResults) => ({ type: 'tool_capability_set', imageToolResults })),
    catalog.map((c) => ({ type: 'tool_boundary_applied', catalog: c })),
    fc.constantFrom('InvalidCatalog', 'CatalogUnavailable').map((errorTag) => ({ type: 'tool_boundary_failed', errorTag, message: 'failed' })),
    fc.record({ allow: names, deny: names, activate: requests, catalog }, { requiredKeys: ['deny', 'activate', 'catalog'] }).map((r) => ({ type: 'tool_turn_overlay_set', ...r })),
    fc.constant({ type: 'tool_turn_overlay_cleared' }),
  ),
  Object.keys(machines.toolVisibility.commandCodecs),
);

const itemId = fc.constantFrom('a', 'b', 'c', '');
const responseId = fc.constantFrom('r1', 'r2', '');
const realtimeEvent = fc.oneof(
  fc.record({ itemId, role: fc.constantFrom('user', 'assistant'), previousItemId: itemId, responseId }, { requiredKeys: ['itemId', 'role'] }).map((e) => ({ type: 'item_observed', ...e })),
  fc.record({ itemId }).map((e) => ({ type: 'item_skipped', ...e })),
  fc.record({ itemId, contentIndex: fc.constantFrom(0, 1), text }).map((e) => ({ type: 'user_transcript_final', ...e })),
  fc
    .record({ responseId, deltaId: fc.constantFrom('d1', 'd2', 'd3'), itemId, contentIndex: fc.constantFrom(0, 1), delta: text })
    .map((e) => ({ type: 'assistant_text_delta', ...e })),
  fc.record({ responseId, itemId, contentIndex: fc.constantFrom(0, 1), text }).map((e) => ({ type: 'assistant_transcript_final_text', ...e })),
  fc
    .record({ responseId, stopReason: fc.constantFrom('end_turn', 'tool_use', 'cancelled'), usage: fc.record({ inputTokens: fc.nat(50), outputTokens: fc.nat(50) }) }, { requiredKeys: ['responseId', 'stopReason'] })
    .map((e) => ({ type: 'assistant_turn_completed', ...e })),
  responseId.map((r) => ({ type: 'assistant_turn_interrupted', responseId: r })),
);
const realtimeCommands = mix(
  fc.oneof({ weight: 8, arbitrary: realtimeEvent.map((event) => ({ type: 'realtime_transcript_event', event })) }, { weight: 1, arbitrary: fc.constant({ type: 'realtime_transcript_flush' }) }),
  Object.keys(machines.realtime.commandCodecs),
);

const lifecycleCommands = mix(
  fc.oneof(fc.option(fc.constantFrom('done', ''), { nil: undefined }).map((reason) => ({ type: 'session_archived', ...(reason === undefined ? {} : { reason }) })), fc.constant({ type: 'session_revived' })),
  Object.keys(machines.lifecycle.commandCodecs),
);

/** The law run of every registered machine (a machine missing here does not type-check). */
const runs: { readonly [K in RegisteredMachine]: () => void } = {
  deferredTurn: () => checkMachineLaws(machines.deferredTurn, { commands: deferredTurnCommands, views: fc.record({ hasConversationMessages: fc.boolean() }) }),
  systemContext: () =>
    checkMachineLaws(machines.systemContext, {
      commands: systemContextCommands,
      views: fc.record({ systemPrompt: fc.option(fc.constantFrom('', 'You are a release assistant.'), { nil: undefined }) }),
    }),
  toolVisibility: () => checkMachineLaws(machines.toolVisibility, { commands: toolVisibilityCommands }),
  realtime: () => checkMachineLaws(machines.realtime, { commands: realtimeCommands, views: fc.record({ awaitingToolResults: fc.boolean() }) }),
  lifecycle: () => checkMachineLaws(machines.lifecycle, { commands: lifecycleCommands }),
};

describe('machine laws, over every registered machine', () => {
  for (const [name, run] of Object.entries(runs)) {
    it(`${name}: never throws, fails only with its tags, is inert iff unchanged, restores every reachable state, restore is total`, run);
  }
});
