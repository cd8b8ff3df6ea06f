/**
 * The palimpsest Agents SDK session under the SDK's own runner (`run()` of
 * `@openai/agents-core` 0.14.3) with scripted models (no network): a run that
 * compacts, a run interrupted for human approval and resumed, and a history
 * transaction retried after its acknowledgement was lost. Each asserts the
 * exact records the log holds.
 */
import * as E from 'fp-ts/lib/Either.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  OutputGuardrailTripwireTriggered,
  run,
  setTracingDisabled,
  tool,
  Usage,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type OutputGuardrail,
  type RunState,
} from '@openai/agents-core';
import { createPalimpsestAgentsSession } from '../../../src/adapters/openai/agentsSession.ts';
import { storeIoError } from '../../../src/store/errors.ts';
import type { SessionStore as Store } from '../../../src/store/store.ts';
import { right, ticking } from '../../support/either.ts';
import { logLines, useStores } from '../../support/stores.ts';

const openStore = useStores();
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
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'compacting', clock: ticking(), actor: 'agents-sdk' });
    const compaction = { type: 'compaction', encrypted_content: 'enc_summary', id: 'cmp_1' } as OutputItem;
    const model = new ScriptedModel((_r, turn) => (turn === 2 ? [compaction, say('compacted answer', turn)] : [say(`answer ${turn}`, turn)]));
    const agent = new Agent({ name: 'assistant', model });
    await run(agent, 'first', { session });
    const beforeCompaction = right(await store.load('compacting'));
    await run(agent, 'second', { session });
    await run(agent, 'third', { session });
    expect(await logLines(store, 'compacting')).toEqual([
      'session_created',
      'append user,assistant',
      'rewrite [0,2) -> notice:compaction,assistant (compaction)',
      'append user,assistant',
    ]);
    expect((await session.getItems()).map((i) => i.type)).toEqual(['compaction', 'message', 'message', 'message']);
    // the third run sent the compacted history, compaction item first
    expect((model.requests[2]!.input as Array<{ type: string }>).map((i) => i.type)).toEqual(['compaction', 'message', 'message']);
    // the history before the compaction is still readable
    expect(right(await store.revisionMessages('compacting', beforeCompaction.transcriptRevision())).map((m) => m.role)).toEqual(['user', 'assistant']);
    const rewrite = right(await store.log('compacting'))[2]!.command;
    expect(rewrite).toMatchObject({ type: 'transcript_rewritten', actor: 'agents-sdk', expectedParentRevision: expect.stringMatching(/^sha256:/) });
    expect(right(await store.verify('compacting')).map((r) => r.ok)).toEqual([true]);
  });

  it('a run interrupted for approval and resumed: the pending call is a notice, then the native pair', async () => {
    const store = await openStore();
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'approval', clock: ticking() });
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
    expect(await logLines(store, 'approval')).toEqual(['session_created', 'append user,notice:function_call']);
    first.state.approve(first.interruptions[0]!);
    const second = await run(agent, first.state, { session });
    expect(second.finalOutput).toBe('deleted');
    expect(executed).toBe(1);
    expect(await logLines(store, 'approval')).toEqual([
      'session_created',
      'append user,notice:function_call',
      'rewrite [1,2) -> assistant,tool_results (agents_add_items)',
      'append assistant',
    ]);
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
    const session = await createPalimpsestAgentsSession(store, { sessionId: 'retried', clock: ticking() });
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
    expect(afterBlock).toEqual(['session_created', 'append user,assistant,tool_results', expect.stringMatching(/^metadata_set agents\.operation:.*:blocked_append:0:3$/)]);

    block = false;
    const resumed = await run(agent, tripped.state as RunState<unknown, Agent>, { session });
    expect(resumed.finalOutput).toBe('secret 2');
    expect(await logLines(real, 'retried')).toEqual([
      ...afterBlock, // the retried blocked_append added nothing
      'append assistant',
      expect.stringMatching(/^metadata_set agents\.operation:.*:accepted_replace:3:3$/),
    ]);
    expect((await session.getItems()).map((i) => i.type)).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(right(await real.verify('retried')).map((r) => r.ok)).toEqual([true]);
  });
});
