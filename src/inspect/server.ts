/**
 * `serveInspector`: the inspector on its own HTTP server, bound to 127.0.0.1
 * only (Node's `http`), for `palimpsest inspect`.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as E from 'fp-ts/lib/Either.js';
import type { StoreAccess } from './access.ts';
import type { InspectorAssets } from './assets.ts';
import { createInspectorHandler, type InspectorHandlerOptions } from './handler.ts';

/** A running inspector server. */
export interface RunningInspector {
  /** `http://127.0.0.1:<port>/`. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections, ends idle ones and resolves when the server is closed. */
  readonly close: () => Promise<void>;
}

/** The port could not be bound (in use, or not allowed). */
export interface ListenFailed {
  readonly _tag: 'ListenFailed';
  readonly port: number;
  readonly code?: string;
  readonly message: string;
}

/** Options of `serveInspector`. */
export interface ServeOptions extends Omit<InspectorHandlerOptions, 'assets' | 'basePath'> {
  readonly access: StoreAccess;
  readonly assets: InspectorAssets;
  /** TCP port; 0 (default) picks a free one. */
  readonly port?: number;
}

/** Starts the server on 127.0.0.1 (`ListenFailed` when the port cannot be bound). */
export const serveInspector = (opts: ServeOptions): Promise<E.Either<ListenFailed, RunningInspector>> =>
  new Promise((resolve) => {
    const handler = createInspectorHandler(opts.access, { assets: opts.assets, ...(opts.authorize !== undefined ? { authorize: opts.authorize } : {}), ...(opts.labels !== undefined ? { labels: opts.labels } : {}) });
    const server = http.createServer(handler);
    const port = opts.port ?? 0;
    server.once('error', (e: NodeJS.ErrnoException) => resolve(E.left({ _tag: 'ListenFailed', port, ...(e.code !== undefined ? { code: e.code } : {}), message: `cannot listen on 127.0.0.1:${port}: ${e.message}` })));
    server.listen(port, '127.0.0.1', () => {
      const bound = (server.address() as AddressInfo).port;
      resolve(
        E.right({
          url: `http://127.0.0.1:${bound}/`,
          port: bound,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              server.closeIdleConnections();
            }),
        }),
      );
    });
  });
