/**
 * The OpenAI adapters, published as `palimpsest/openai`: Chat Completions and
 * Responses conversions (pure), the Realtime server-event mapper
 * (realtime.md §8), the Agents SDK `Session`, the turn runner, and their
 * errors. Needs the optional peer dependencies `openai` (the turn runner) and
 * `@openai/agents-core` (types of the Agents SDK session).
 */
export * from './errors.ts';
export {
  TOOL_ERROR_PREFIX,
  formatToolArguments,
  noticeText,
  parseToolArguments,
  toolResultText,
  type AssistantMessageInput,
  type AssistantTurn,
  type FromWireOptions,
  type ResolveBlob,
  type ToWireOptions,
} from './common.ts';
export * from './chat.ts';
export * from './responses.ts';
export * from './realtime.ts';
export * from './turnRunner.ts';
export * from './agentsItems.ts';
export * from './agentsSession.ts';
