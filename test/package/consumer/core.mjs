// Plain Node ESM consumer of the installed package (no TypeScript, no loader).
// argv: <store dir>. Prints one JSON line with what it saw.
import { SessionStore, userText, assistantText } from 'palimpsest';

const must = (r, what) => {
  if (r._tag === 'Left') throw new Error(`${what}: ${JSON.stringify(r.left)}`);
  return r.right;
};
const store = must(await SessionStore.open(process.argv[2]), 'open');
const created = must(await store.create({ id: 'consumer-js', metadata: { from: 'core.mjs' } }), 'create');
const at = Date.UTC(2026, 0, 1);
const appended = must(
  await store.append(created.id, [{ type: 'messages_appended', messages: [userText('hello', { createdAt: at }), assistantText('hi', { createdAt: at })] }], { expectedSeq: created.seq }),
  'append',
);
const child = must(await store.fork(created.id, { id: 'consumer-js~fork' }), 'fork');
const reports = must(await store.verify(), 'verify');
must(await store.close(), 'close');
console.log(JSON.stringify({ messages: appended.session.messageCount, child: child.id, childMessages: child.messageCount, verified: reports.map((r) => [r.sessionId, r.ok]) }));
