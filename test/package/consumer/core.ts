// A strict TypeScript consumer (module/moduleResolution nodenext, no skipLibCheck)
// of the installed package's .d.ts: the core and palimpsest/pi (adapters.ts: palimpsest/openai).
// argv: <store dir>. Prints one JSON line with what it saw.
import * as E from 'fp-ts/lib/Either.js';
import { SessionStore, userText, assistantText, type Session, type SessionVerifyReport } from 'palimpsest';
import { parsePiJsonl } from 'palimpsest/pi';

const must = <L, A>(r: E.Either<L, A>, what: string): A => {
  if (E.isLeft(r)) throw new Error(`${what}: ${JSON.stringify(r.left)}`);
  return r.right;
};

const dir: string | undefined = process.argv[2];
if (dir === undefined) throw new Error('usage: core.js <store dir>');
const store = must(await SessionStore.open(dir), 'open');
const created: Session = must(await store.create({ id: 'consumer-ts' }), 'create');
const at = Date.UTC(2026, 0, 2);
const appended = must(await store.append(created.id, [{ type: 'messages_appended', messages: [userText('hello', { createdAt: at }), assistantText('hi', { createdAt: at })] }], { expectedSeq: created.seq }), 'append');
const child = must(await store.fork(created.id, { id: 'consumer-ts~fork' }), 'fork');
const reports: SessionVerifyReport[] = must(await store.verify(), 'verify');
must(await store.close(), 'close');
console.log(JSON.stringify({ messages: appended.session.messageCount, child: child.id, verified: reports.map((r) => [r.sessionId, r.ok]), pi: typeof parsePiJsonl }));
