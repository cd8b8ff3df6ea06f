/**
 * `npm run example:agent`: two agent turns driven by `runAgentTurn` with the real
 * `openai` client, against the bundled local OpenAI-compatible server (no
 * network, no API key), then the session's log as `palimpsest log` prints it.
 *
 * The "model" is a small scripted function: asked about a file it calls
 * `read_file`; given a tool result it answers from it; otherwise it answers from
 * the conversation. The `read_file` handler is real (it reads from a sandbox
 * directory); the second turn is streamed (SSE).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import OpenAI from 'openai';
import { startLocalOpenAIServer, type RecordedRequest, type ScriptedReply } from '../test/support/localOpenAIServer.ts';
import { SessionEngine } from '../src/engine/index.ts';
import { runAgentTurn, type ToolHandler } from '../src/adapters/openai/turnRunner.ts';
import type { ToolCatalog } from '../src/machines/toolVisibility.ts';
import { runCli } from '../src/cli/program.ts';

const fail = (what: string, e: unknown): never => {
  throw new Error(`${what}: ${JSON.stringify(e)}`);
};

// ---- a sandbox with one file, and the store, both in a fresh temp directory ----
const root = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'palimpsest-example-agent-'));
const sandbox = nodePath.join(root, 'files');
const storeDir = nodePath.join(root, 'store');
fs.mkdirSync(sandbox);
fs.writeFileSync(nodePath.join(sandbox, 'notes.txt'), 'Ship the turn runner on Friday.\nThen write the README.\n');

// ---- the runtime's tools: a catalog (what the model may be offered) and handlers ----
const catalog: ToolCatalog = {
  tools: [
    {
      name: 'read_file',
      description: 'Read a UTF-8 text file from the workspace',
      inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'], additionalProperties: false },
      provenance: { kind: 'builtin', sourceId: 'example' },
    },
    {
      name: 'get_time',
      description: 'The current time (ISO 8601, UTC)',
      inputSchema: { type: 'object', properties: {}, additionalProperties: false },
      provenance: { kind: 'builtin', sourceId: 'example' },
    },
  ],
  controlNames: [],
  deferredNames: [],
};

const handlers: Record<string, ToolHandler> = {
  read_file: async (args) => {
    const rel = String((args as { path?: unknown }).path ?? '');
    const full = nodePath.resolve(sandbox, rel);
    if (!full.startsWith(sandbox + nodePath.sep)) throw new Error(`${rel} is outside the workspace`);
    return fs.promises.readFile(full, 'utf8');
  },
  get_time: async () => new Date().toISOString(),
};

// ---- the scripted model ----
type WireMessage = { role: string; content?: unknown; tool_calls?: unknown };
const scriptedModel = (req: RecordedRequest): ScriptedReply => {
  const messages = ((req.body as { messages?: WireMessage[] }).messages ?? []) as WireMessage[];
  const last = messages[messages.length - 1];
  const text = typeof last?.content === 'string' ? last.content : '';
  if (last?.role === 'tool') {
    const first = text.split('\n')[0] ?? '';
    return { kind: 'text', text: `notes.txt says: "${first}" (and one more line).` };
  }
  if (/notes\.txt/.test(text)) {
    return { kind: 'tool_calls', calls: [{ id: 'call_read_1', name: 'read_file', arguments: JSON.stringify({ path: 'notes.txt' }) }] };
  }
  const toolCalls = messages.filter((m) => m.role === 'tool').length;
  return { kind: 'text', text: `So far you sent ${messages.filter((m) => m.role === 'user').length} messages and I used ${toolCalls} tool call. Friday it is.` };
};

const server = await startLocalOpenAIServer({ reply: scriptedModel, model: 'local-scripted-model' });
const client = new OpenAI({ baseURL: server.url, apiKey: 'not-needed-locally', maxRetries: 0 });

const engine = E.getOrElse((e): SessionEngine => fail('open the engine', e))(await SessionEngine.open(storeDir));
const session = E.getOrElseW((e) => fail('create a session', e))(await engine.create({ id: 'example-agent' }));
const id = session.id;

const turns: Array<{ input: string; stream: boolean }> = [
  { input: 'What does notes.txt say?', stream: false },
  { input: 'Thanks. So when do we ship?', stream: true },
];
for (const [i, t] of turns.entries()) {
  const r = await runAgentTurn(engine, id, { client, model: 'local-scripted-model', tools: catalog, handlers, input: t.input, stream: t.stream });
  if (E.isLeft(r)) fail(`turn ${i + 1}`, r.left);
  const report = E.isRight(r) ? r.right : fail('unreachable', r);
  const tools = report.toolCalls.map((c) => `${c.name}(${JSON.stringify(c.args)})${c.isError ? ' [error]' : ''}`).join(', ') || 'none';
  console.log(`turn ${i + 1}${t.stream ? ' (streamed)' : ''}`);
  console.log(`  user:      ${t.input}`);
  console.log(`  tools:     ${tools}`);
  console.log(`  assistant: ${report.finalText}`);
  console.log(`  steps ${report.steps}, stop ${report.stopReason}, tokens in ${report.usage.inputTokens} / out ${report.usage.outputTokens}`);
}

await engine.close();
await server.close();

console.log(`\n$ palimpsest --store ${storeDir} log ${id}`);
const code = await runCli(['--store', storeDir, 'log', id]);
fs.rmSync(root, { recursive: true, force: true });
process.exitCode = code;
