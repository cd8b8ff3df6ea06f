// Type-checks a consumer of palimpsest/testing and palimpsest/ai-sdk against the
// shipped .d.ts with fast-check and ai (v6) installed (compiled, not run:
// subpaths.mjs imports both at run time).
import fc from 'fast-check';
import type { UIMessage } from 'ai';
import type { Message, SessionStore, TranscriptRewriteRequest } from 'palimpsest';
import { arbTranscript, checkCompactor, type CompactorReport } from 'palimpsest/testing';
import { createChatStore, type ChatStore } from 'palimpsest/ai-sdk';

const keepAll = (_messages: readonly Message[]): TranscriptRewriteRequest | undefined => undefined;

export const checkKeepAll = (): Promise<CompactorReport> => checkCompactor(keepAll, { transcripts: arbTranscript({ maxTurns: 3 }), numRuns: 5 });

export const sampleSizes = (): number[] => fc.sample(arbTranscript(), 3).map((t) => t.length);

export const saveOne = async (store: SessionStore): Promise<UIMessage[]> => {
  const chats: ChatStore = createChatStore(store);
  const chatId = await chats.createChat();
  await chats.saveChat({ chatId, messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }] });
  return chats.loadChat(chatId);
};
