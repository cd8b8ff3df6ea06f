/**
 * A local, scripted, OpenAI-compatible model server for tests and examples.
 *
 * `startLocalOpenAIServer()` starts a real `node:http` server on `127.0.0.1` (an ephemeral port)
 * that speaks the OpenAI Chat Completions (`POST /v1/chat/completions`) and Responses
 * (`POST /v1/responses`) wire formats and plays back scripted replies, so the real `openai` client
 * talks to it over a socket:
 *
 * ```ts
 * const server = await startLocalOpenAIServer({ replies: [{ kind: 'text', text: 'hi' }] });
 * const client = new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 });
 * await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
 * await server.close();
 * ```
 *
 * Routing and answers:
 * - a known route with a JSON-object body is recorded, consumes the next scripted reply (the
 *   `replies` queue first, then `reply(request)`), waits `delayMs`, and is answered as JSON, or as
 *   SSE when the body has `stream: true` (event order: `chatCompletionChunks` in
 *   `localOpenAIServer/chat.ts`, `responseEvents` in `localOpenAIServer/responses.ts`);
 * - no scripted reply left → 500 `server_error` "script exhausted"; `reply` throwing → 500 `server_error`;
 * - a known route with a body that is not a JSON object → 400 `invalid_request_error` (recorded,
 *   consumes no reply);
 * - any other method or path → 404 `invalid_request_error` (not recorded).
 * Every error body is OpenAI-shaped: `{ error: { message, type, param: null, code } }`; every
 * answer carries an `x-request-id: req_…` header.
 *
 * A client that disconnects (abort, timeout) during the delay or mid-stream is tolerated: the
 * pending answer is dropped and nothing throws. Each server is independent (no module state).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatCompletion, chatCompletionChunks, chatUsage } from './localOpenAIServer/chat.ts';
import { responseEvents, responseObject, responsesUsage } from './localOpenAIServer/responses.ts';
import { isRecord, newOpenAIId, resolveUsage } from './localOpenAIServer/shared.ts';
import type { RecordedRequest, ScriptedCompletion, ScriptedReply, WireContext } from './localOpenAIServer/types.ts';

export type {
  RecordedRequest,
  ScriptedCompletion,
  ScriptedReply,
  ScriptedToolCall,
  ScriptedUsage,
  WireContext,
} from './localOpenAIServer/types.ts';
export { splitArgumentDeltas, splitTextDeltas } from './localOpenAIServer/shared.ts';
export { chatCompletion, chatCompletionChunks } from './localOpenAIServer/chat.ts';
export { responseEvents, responseObject } from './localOpenAIServer/responses.ts';

/** Options of `startLocalOpenAIServer`. */
export interface LocalOpenAIServerOptions {
  /** Scripted replies, consumed one per answered request in arrival order (see `LocalOpenAIServer.push`). */
  readonly replies?: ReadonlyArray<ScriptedReply>;
  /** Called for a request when the `replies` queue is empty; its result answers the request. A throw answers 500. */
  readonly reply?: (req: RecordedRequest) => ScriptedReply;
  /** Model name reported in every answer; default: the request's `model`, else `'palimpsest-local'`. */
  readonly model?: string;
  /** Milliseconds to wait after reading a request before answering it (default 0). The reply is taken before the wait. */
  readonly delayMs?: number;
  /** Milliseconds to wait between SSE events of a streamed answer (default 0), e.g. to abort mid-stream. */
  readonly chunkDelayMs?: number;
}

/** A running local server. */
export interface LocalOpenAIServer {
  /** Base URL for the `openai` client: `http://127.0.0.1:<port>/v1`. */
  readonly url: string;
  /** The TCP port the server listens on (ephemeral, chosen by the OS). */
  readonly port: number;
  /** Every request received on a known route, in arrival order (live array, appended as requests arrive). */
  readonly requests: RecordedRequest[];
  /** Appends scripted replies to the end of the queue. */
  push(...replies: ScriptedReply[]): void;
  /** Stops listening, drops in-flight answers, destroys every open connection; resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/** Default OpenAI error `type` for an HTTP status. */
function errorTypeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Resolves after `ms` milliseconds, or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Reads the whole request body as UTF-8 text; rejects if the client goes away first. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `text` as one SSE event: every line (split on CR, LF or CRLF) becomes its own `data: ` field, then a
 * blank line, so an SSE decoder hands back exactly `text` (lines rejoined with `\n`).
 */
function sseDataFrame(text: string): string {
  return text.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('') + '\n';
}

/** Which API a method + path addresses, or `undefined` for an unknown route. */
function routeOf(method: string | undefined, path: string): RecordedRequest['api'] | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return 'chat';
  if (path === '/v1/responses') return 'responses';
  return undefined;
}

/**
 * Starts a scripted OpenAI-compatible server on `127.0.0.1`, port 0 (see the module doc for routes and
 * answers). Resolves once it listens; rejects if it cannot bind.
 */
export async function startLocalOpenAIServer(opts: LocalOpenAIServerOptions = {}): Promise<LocalOpenAIServer> {
  const queue: ScriptedReply[] = [...(opts.replies ?? [])];
  const requests: RecordedRequest[] = [];
  const inFlight = new Set<AbortController>();
  const delayMs = opts.delayMs ?? 0;
  const chunkDelayMs = opts.chunkDelayMs ?? 0;
  let closing: Promise<void> | undefined;

  const nextReply = (recorded: RecordedRequest): ScriptedReply | undefined => {
    const queued = queue.shift();
    if (queued !== undefined) return queued;
    return opts.reply?.(recorded);
  };

  /** Writes `data` unless the exchange was aborted; false when it was. */
  const write = (res: ServerResponse, signal: AbortSignal, data: string): boolean => {
    if (signal.aborted || res.destroyed || res.writableEnded) return false;
    res.write(data);
    return true;
  };

  const sendJson = (res: ServerResponse, signal: AbortSignal, status: number, body: string, contentType = 'application/json'): void => {
    if (signal.aborted || res.destroyed || res.headersSent) return;
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': Buffer.byteLength(body),
      'x-request-id': newOpenAIId('req_'),
    });
    res.end(body);
  };

  const sendError = (
    res: ServerResponse,
    signal: AbortSignal,
    status: number,
    message: string,
    type = errorTypeFor(status),
    code: string | null = null,
  ): void => {
    sendJson(res, signal, status, JSON.stringify({ error: { message, type, param: null, code } }));
  };

  /** Writes a 200 SSE stream of pre-serialised events (`event:` line optional), then ends it. */
  const sendSse = async (
    res: ServerResponse,
    signal: AbortSignal,
    events: ReadonlyArray<{ event?: string; data: string }>,
  ): Promise<void> => {
    if (signal.aborted || res.destroyed) return;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': newOpenAIId('req_'),
    });
    let first = true;
    for (const e of events) {
      if (!first) await sleep(chunkDelayMs, signal);
      first = false;
      const frame = (e.event !== undefined ? `event: ${e.event}\n` : '') + `data: ${e.data}\n\n`;
      if (!write(res, signal, frame)) return;
    }
    if (!signal.aborted && !res.destroyed) res.end();
  };

  const answer = async (
    res: ServerResponse,
    signal: AbortSignal,
    recorded: RecordedRequest,
    reply: ScriptedReply,
  ): Promise<void> => {
    switch (reply.kind) {
      case 'error':
        sendError(res, signal, reply.status, reply.message, reply.type ?? errorTypeFor(reply.status));
        return;
      case 'malformed':
        if (recorded.stream) {
          // One SSE event carrying the body (each line its own `data:` field), so the SDK parses it and fails.
          if (signal.aborted || res.destroyed) return;
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': newOpenAIId('req_') });
          res.end(sseDataFrame(reply.body));
        } else {
          sendJson(res, signal, 200, reply.body);
        }
        return;
      case 'malformed_stream':
        await sendSse(res, signal, reply.chunks.map((data) => ({ data })));
        return;
      case 'text':
      case 'tool_calls':
        await answerCompletion(res, signal, recorded, reply);
        return;
    }
  };

  const answerCompletion = async (
    res: ServerResponse,
    signal: AbortSignal,
    recorded: RecordedRequest,
    reply: ScriptedCompletion,
  ): Promise<void> => {
    const body = isRecord(recorded.body) ? recorded.body : {};
    const ctx: WireContext = {
      model: opts.model ?? (typeof body['model'] === 'string' ? body['model'] : 'palimpsest-local'),
      created: Math.floor(Date.now() / 1000),
      newId: newOpenAIId,
    };
    const usage = resolveUsage(reply, recorded.body);
    if (recorded.api === 'chat') {
      if (!recorded.stream) {
        sendJson(res, signal, 200, JSON.stringify(chatCompletion(reply, ctx, chatUsage(usage))));
        return;
      }
      const streamOptions = body['stream_options'];
      const includeUsage = isRecord(streamOptions) && streamOptions['include_usage'] === true;
      const chunks = chatCompletionChunks(reply, ctx, chatUsage(usage), includeUsage);
      await sendSse(res, signal, [...chunks.map((c) => ({ data: JSON.stringify(c) })), { data: '[DONE]' }]);
      return;
    }
    if (!recorded.stream) {
      sendJson(res, signal, 200, JSON.stringify(responseObject(reply, recorded.body, ctx, responsesUsage(usage))));
      return;
    }
    const events = responseEvents(reply, recorded.body, ctx, responsesUsage(usage));
    await sendSse(res, signal, events.map((e) => ({ event: e.type, data: JSON.stringify(e) })));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const controller = new AbortController();
    const signal = controller.signal;
    inFlight.add(controller);
    res.on('close', () => {
      controller.abort();
      inFlight.delete(controller);
    });
    // A client that goes away makes these streams error; the exchange is simply dropped.
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const api = routeOf(req.method, path);
      if (api === undefined) {
        req.resume();
        sendError(res, signal, 404, `Unknown route: ${req.method ?? '?'} ${path}`, 'invalid_request_error', 'unknown_url');
        return;
      }
      const raw = await readBody(req);
      let parsed: unknown = raw;
      let valid = false;
      try {
        parsed = JSON.parse(raw);
        valid = isRecord(parsed);
        if (!valid) parsed = raw;
      } catch {
        parsed = raw;
      }
      const recorded: RecordedRequest = {
        api,
        path,
        body: parsed,
        stream: isRecord(parsed) && parsed['stream'] === true,
        receivedAt: Date.now(),
      };
      requests.push(recorded);
      if (!valid) {
        sendError(res, signal, 400, 'We could not parse the JSON body of your request: expected a JSON object.');
        return;
      }
      let reply: ScriptedReply | undefined;
      try {
        reply = nextReply(recorded);
      } catch (e) {
        sendError(res, signal, 500, `Local OpenAI server: the reply function threw: ${e instanceof Error ? e.message : String(e)}`);
        return;
      }
      if (reply === undefined) {
        sendError(
          res,
          signal,
          500,
          `Local OpenAI server: script exhausted — no scripted reply left for request #${requests.length} (${req.method} ${path}).`,
          'server_error',
          'script_exhausted',
        );
        return;
      }
      await sleep(delayMs, signal);
      if (signal.aborted) return;
      await answer(res, signal, recorded, reply);
    } catch (e) {
      if (signal.aborted || res.destroyed) return;
      if (!res.headersSent) {
        sendError(res, signal, 500, `Local OpenAI server error: ${e instanceof Error ? e.message : String(e)}`);
      } else {
        res.destroy();
      }
    }
  };

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  server.on('clientError', (_err, socket) => {
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    push(...replies: ScriptedReply[]): void {
      queue.push(...replies);
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        for (const c of inFlight) c.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
