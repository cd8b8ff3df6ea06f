// Runs palimpsest/openai against the openai and @openai/agents-core versions
// installed in this project. argv: <loopback OpenAI server URL> <temp dir>.
// Prints one JSON line with what it saw.
import OpenAI from 'openai';
import { Agent, Usage, run, setTracingDisabled } from '@openai/agents-core';
import { SessionEngine, SessionStore } from 'palimpsest';
import { createPalimpsestAgentsSession, runAgentTurn } from 'palimpsest/openai';

const must = (r, what) => {
  if (r._tag === 'Left') throw new Error(`${what}: ${JSON.stringify(r.left)}`);
  return r.right;
};
const [url, dir] = process.argv.slice(2);

// 1. The turn runner with the real openai client, Chat Completions then Responses.
const client = new OpenAI({ baseURL: url, apiKey: 'local', maxRetries: 0 });
const engine = must(await SessionEngine.open(`${dir}/engine`), 'open engine');
const session = must(await engine.create({ id: 'turns' }), 'create');
const turns = [];
for (const api of ['chat', 'responses']) {
  const report = must(await runAgentTurn(engine, session.id, { client, model: 'local', api, stream: api === 'responses', tools: { tools: [], controlNames: [], deferredNames: [] }, handlers: {}, input: `ping over ${api}` }), api);
  turns.push(report.finalText);
}
await engine.close();

// 2. The Agents SDK's own run() with a palimpsest session and a scripted model.
setTracingDisabled(true);
const model = {
  async getResponse() {
    return { usage: new Usage(), output: [{ type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'pong from the agent' }] }], responseId: 'resp_1' };
  },
  async *getStreamedResponse() {
    throw new Error('not used');
  },
};
const store = must(await SessionStore.open(`${dir}/agents`), 'open store');
const sdkSession = await createPalimpsestAgentsSession(store, { sessionId: 'sdk' });
const agent = new Agent({ name: 'echo', instructions: 'Answer briefly.', model });
const first = await run(agent, 'hello', { session: sdkSession });
const second = await run(agent, 'again', { session: sdkSession });
const items = await sdkSession.getItems();
const reports = must(await store.verify(), 'verify');
must(await store.close(), 'close');
console.log(JSON.stringify({ turns, agent: [first.finalOutput, second.finalOutput], items: items.map((i) => i.type ?? i.role), verified: reports.map((r) => r.ok) }));
