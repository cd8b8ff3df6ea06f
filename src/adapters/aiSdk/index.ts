/**
 * `palimpsest/ai-sdk`: a chat store for the Vercel AI SDK (`ai` v6, an optional
 * peer dependency used for its types only): `createChatStore(store)` with
 * `createChat`, `loadChat`, `saveChat`.
 */
export * from './chatStore.ts';
export * from './parts.ts';
export * from './segments.ts';
