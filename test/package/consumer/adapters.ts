// Type-checks a consumer of palimpsest/openai against the shipped .d.ts and
// the installed openai / @openai/agents-core (compiled, not run: peers.mjs runs
// the same calls against a loopback server).
import OpenAI from 'openai';
import type { Session as AgentsSession } from '@openai/agents-core';
import type { SessionEngine, SessionStore } from 'palimpsest';
import { createPalimpsestAgentsSession, runAgentTurn, type AgentTurnOptions } from 'palimpsest/openai';

export const oneTurnAndOneAgentsSession = async (engine: SessionEngine, store: SessionStore, baseURL: string): Promise<string> => {
  const opts: AgentTurnOptions = { client: new OpenAI({ baseURL, apiKey: 'local' }), model: 'local', tools: { tools: [], controlNames: [], deferredNames: [] }, handlers: {}, input: 'hi' };
  const report = await runAgentTurn(engine, 'turns', opts);
  const session: AgentsSession = await createPalimpsestAgentsSession(store, { sessionId: 'sdk' });
  return `${report._tag === 'Right' ? report.right.finalText : report.left._tag} ${await session.getSessionId()}`;
};
