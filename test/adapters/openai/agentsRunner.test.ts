/**
 * The palimpsest Agents SDK session under the SDK's own runner (`run()` of
 * `@openai/agents-core` 0.20) with scripted models (no network): a run that
 * compacts, a run interrupted for human approval and resumed, a history
 * transaction retried after its acknowledgement was lost, and the run context
 * (actor and run id of each write) as `palimpsest log` shows it. Each asserts
 * the exact records the log holds.
 */
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  isRunContextAwareSession,
  OutputGuardrailTripwireTriggered,
  run,
  RunContext,
  setTracingDisabled,
  tool,
  Usage,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type OutputGuardrail,
  type RunState,
} from '@openai/agents-core';
import { createPalimpsestAgentsSession, type PalimpsestAgentsSessionOptions } from '../../../src/adapters/openai/agentsSession.ts';
import { storeIoError } from '../../../src/store/errors.ts';
import type { SessionStore as Store } from '../../../src/store/store.ts';
import { right, ticking } from '../../support/either.ts';
import { logLines, useStores } from '../../support/stores.ts';
import { SessionStore } from '../../../src/store/index.ts';
import { cleanup, cli, tempDir } from '../../cli/helpers.ts';

const openStore = useStores();
afterAll(cleanup);
/** Session options with a deterministic clock and run ids `run-1`, `run-2`, … (one per `RunContext`). */
const options = (extra: PalimpsestAgentsSessionOptions = {}): PalimpsestAgentsSessionOptions => {
  let n = 0;
  return { clock: ticking(), newRunId: () => `run-${++n}`, ...extra };
};
/** The `agents.run` values the log records, in order. */
const runsOf = async (store: Store, id: string): Promise<unknown[]> =>
  right(await store.log(id)).flatMap((r) => (r.command.type === 'metadata_set' && r.command.key === 'agents.run' ? [r.command.value] : []));
type OutputItem = ModelResponse['output'][number];

/** A model that answers each request with `script(request, turn)` (turn = 1, 2, …) and records the requests. */
class ScriptedModel implements Model {
  readonly requests: ModelRequest[] = [];
  constructor(private readonly script: (request: ModelRequest, turn: number) => OutputItem[]) {}
  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    this.requests.push(structuredClone(request));
    const turn = this.requests.length;
    return { usage: new Usage(), output: this.script(request, turn), responseId: `resp_${turn}` };
  }
  async *getStreamedResponse(): AsyncIterable<never> {
    throw new Error('the scripted model does not stream');
  }
}

const say = (text: string, turn: number): OutputItem => ({ id: `msg_${turn}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text }] }) as OutputItem;
const callTool = (name: string, turn: number, args = '{}'): OutputItem => ({ type: 'function_call', id: `fc_${turn}`, callId: `call_${turn}`, name, arguments: args, status: 'completed' }) as OutputItem;
const lastInputType = (request: ModelRequest): string | undefined => (typeof request.input === 'string' ? undefined : request.input.at(-1)?.type);
const noArgs = { type: 'object' as const, properties: {}, required: [], additionalProperties: false as const };

describe('run() with a palimpsest session', () => {
  beforeAll(() => setTracingDisabled(true));

  it('a run whose model returns a compaction item records one rewrite with reason compaction', async () => {
    const store = await openStore();
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'compacting', ...options({ actor: 'agents-sdk' }) });
    const compaction = { type: 'compaction', encrypted_content: 'enc_summary', id: 'cmp_1' } as OutputItem;
    const model = new ScriptedModel((_r, turn) => (turn === 2 ? [compaction, say('compacted answer', turn)] : [say(`answer ${turn}`, turn)]));
    const agent = new Agent({ name: 'assistant', model });
    await run(agent, 'first', { session });
    const beforeCompaction = right(await store.load('compacting'));
    await run(agent, 'second', { session });
    await run(agent, 'third', { session });
    expect(await logLines(store, 'compacting')).toEqual([
      'session_created',
      'metadata_set agents.run',
      'append user,assistant',
      'metadata_set agents.run',
      'rewrite [0,2) -> notice:compaction,assistant (compaction)',
      'metadata_set agents.run',
      'append user,assistant',
    ]);
    expect(await runsOf(store, 'compacting')).toEqual([{ runId: 'run-1' }, { runId: 'run-2' }, { runId: 'run-3' }]);
    expect((await session.getItems()).map((i) => i.type)).toEqual(['compaction', 'message', 'message', 'message']);
    // the third run sent the compacted history, compaction item first
    expect((model.requests[2]!.input as Array<{ type: string }>).map((i) => i.type)).toEqual(['compaction', 'message', 'message']);
    // the history before the compaction is still readable
    expect(right(await store.revisionMessages('compacting', beforeCompaction.transcriptRevision())).map((m) => m.role)).toEqual(['user', 'assistant']);
    const rewrite = right(await store.log('compacting'))[4]!.command;
    expect(rewrite).toMatchObject({ type: 'transcript_rewritten', actor: 'agents-sdk', expectedParentRevision: expect.stringMatching(/^sha256:/) });
    expect(right(await store.verify('compacting')).map((r) => r.ok)).toEqual([true]);
  });

  it('a run interrupted for approval and resumed: the pending call is a notice, then the native pair', async () => {
    const store = await openStore();
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'approval', ...options() });
    const model = new ScriptedModel((req, turn) => (lastInputType(req) === 'function_call_result' ? [say('deleted', turn)] : [callTool('delete_file', turn, '{"path":"a.txt"}')]));
    let executed = 0;
    const deleteFile = tool({
      name: 'delete_file',
      description: 'Deletes a file',
      parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false },
      strict: true,
      needsApproval: true,
      execute: async () => {
        executed++;
        return 'ok';
      },
    });
    const agent = new Agent({ name: 'janitor', model, tools: [deleteFile] });
    const first = await run(agent, 'delete a.txt', { session });
    expect(first.interruptions).toHaveLength(1);
    expect(executed).toBe(0);
    expect(await logLines(store, 'approval')).toEqual(['session_created', 'metadata_set agents.run', 'append user,notice:function_call']);
    first.state.approve(first.interruptions[0]!);
    const second = await run(agent, first.state, { session });
    expect(second.finalOutput).toBe('deleted');
    expect(executed).toBe(1);
    // resuming from the RunState continues the same RunContext: the same run, no second run record
    expect(await logLines(store, 'approval')).toEqual([
      'session_created',
      'metadata_set agents.run',
      'append user,notice:function_call',
      'rewrite [1,2) -> assistant,tool_results (agents_add_items)',
      'append assistant',
    ]);
    expect(await runsOf(store, 'approval')).toEqual([{ runId: 'run-1' }]);
    expect(right(await store.load('approval')).messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool_results', 'assistant']);
  });

  it('a transaction whose acknowledgement was lost is retried on resume and recorded once', async () => {
    const real = await openStore();
    let lose = 1;
    // The append commits, but the first acknowledgement of an operation never reaches the caller.
    const store: Store = {
      ...real,
      append: async <const Cs extends readonly unknown[]>(...args: [string, Cs, { readonly expectedSeq: number }]) => {
        const r = await real.append(...args);
        const isOperation = args[1].some((c) => (c as { type?: string; key?: string }).type === 'metadata_set' && String((c as { key?: string }).key).startsWith('agents.operation:'));
        if (E.isRight(r) && isOperation && lose-- > 0) return E.left(storeIoError('(test)', 'acknowledgement lost'));
        return r;
      },
    };
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'retried', ...options() });
    const model = new ScriptedModel((req, turn) => (lastInputType(req) === 'function_call_result' ? [say(`secret ${turn}`, turn)] : [callTool('lookup', turn)]));
    const lookup = tool({ name: 'lookup', description: 'Looks something up', parameters: noArgs, strict: true, execute: async () => 'found' });
    let block = true;
    const guard: OutputGuardrail = { name: 'no-secrets', execute: async () => ({ tripwireTriggered: block, outputInfo: {} }) };
    const agent = new Agent({ name: 'guarded', model, tools: [lookup], outputGuardrails: [guard] });

    const blocked = await run(agent, 'tell me', { session }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(blocked).toBeInstanceOf(OutputGuardrailTripwireTriggered);
    const tripped = blocked as OutputGuardrailTripwireTriggered<never>;
    expect(tripped.cause).toMatchObject({ _tag: 'StoreIoError' });
    // committed although the caller saw a failure: the retained tool call, its result, and the operation id
    const afterBlock = await logLines(real, 'retried');
    expect(afterBlock).toEqual(['session_created', 'metadata_set agents.run', 'append user,assistant,tool_results', expect.stringMatching(/^metadata_set agents\.operation:.*:blocked_append:0:3$/)]);

    block = false;
    const resumed = await run(agent, tripped.state as RunState<unknown, Agent>, { session });
    expect(resumed.finalOutput).toBe('secret 2');
    expect(await logLines(real, 'retried')).toEqual([
      ...afterBlock, // the retried blocked_append added nothing; the resumed run is the same run
      'append assistant',
      expect.stringMatching(/^metadata_set agents\.operation:.*:accepted_replace:3:3$/),
    ]);
    expect((await session.getItems()).map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(right(await real.verify('retried')).map((r) => r.ok)).toEqual([true]);
  });
});

describe('run context: the actor and run id of each write', () => {
  beforeAll(() => setTracingDisabled(true));
  const chatty = () => new Agent({ name: 'assistant', model: new ScriptedModel((_r, turn) => [say(`answer ${turn}`, turn)]) });

  it('is recognised by the SDK as run-context aware', async () => {
    const session = await createPalimpsestAgentsSession(await openStore(), options());
    expect(isRunContextAwareSession(session)).toBe(true);
  });

  it("records the run's runId and actor from the run context once per run, and the rewrite's actor is the run's", async () => {
    const store = await openStore();
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'attributed', ...options({ actor: 'service' }) });
    const agent = chatty();
    await run(agent, 'first', { session, context: { runId: 'ticket-7', actor: 'alice' } });
    await run(agent, 'second', { session, context: { actor: 'bob' } });
    await run(agent, 'third', { session });
    // a compaction inside bob's run context: the rewrite carries bob as actor
    const bobs = new RunContext<unknown>({ runId: 'ticket-8', actor: 'bob' });
    await session.replaceHistoryWithCompaction([{ type: 'message', role: 'user', content: 'summary' }], bobs);
    await session.addItems([{ type: 'message', role: 'user', content: 'more' }], bobs);
    await session.addItems([{ type: 'message', role: 'user', content: 'direct' }]);
    expect(await logLines(store, 'attributed')).toEqual([
      'session_created',
      'metadata_set agents.run',
      'append user,assistant',
      'metadata_set agents.run',
      'append user,assistant',
      'metadata_set agents.run',
      'append user,assistant',
      'metadata_set agents.run',
      'rewrite [0,6) -> user (compaction)',
      'append user', // same run as the line before: no second run record
      'append user', // no run context: no run record, the last run stays recorded
    ]);
    expect(await runsOf(store, 'attributed')).toEqual([{ runId: 'ticket-7', actor: 'alice' }, { runId: 'run-1', actor: 'bob' }, { runId: 'run-2' }, { runId: 'ticket-8', actor: 'bob' }]);
    const rewrite = right(await store.log('attributed')).find((r) => r.command.type === 'transcript_rewritten')!.command;
    expect(rewrite).toMatchObject({ actor: 'bob' });
    expect(right(await store.verify('attributed')).map((r) => r.ok)).toEqual([true]);
  });

  it('palimpsest log shows the run records with their actor and run id', async () => {
    const dir = tempDir('agents-run-log');
    const store = right(await SessionStore.open(dir));
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'logged', ...options() });
    await run(chatty(), 'hello', { session, context: { runId: 'ticket-9', actor: 'carol' } });
    await store.close();
    const out = await cli(['--store', dir, '--no-pager', 'log', 'logged'], dir);
    expect(out.code).toBe(0);
    // Records are stored as canonical JSON, so a value read back lists its members in key order.
    expect(out.stdout).toMatch(/metadata_set\s+[0-9a-f]{12}\s+agents\.run = \{"actor":"carol","runId":"ticket-9"\}/);
  });

  it('a runAttribution returning a bad runId rejects with InvalidArgument and records nothing', async () => {
    const store = await openStore();
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'bad-run', ...options({ runAttribution: () => ({ runId: '' }) }) });
    await expect(session.addItems([{ type: 'message', role: 'user', content: 'x' }], new RunContext({}))).rejects.toMatchObject({ _tag: 'InvalidArgument', argument: 'runAttribution' });
    expect(await logLines(store, 'bad-run')).toEqual(['session_created']);
  });
});
