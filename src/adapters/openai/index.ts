/**
 * The OpenAI adapters: Chat Completions and Responses conversions (pure), the
 * Realtime server-event mapper (realtime.md §8), and their errors.
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
export * from './localServer.ts';
export * from './agentsItems.ts';
export * from './agentsSession.ts';
