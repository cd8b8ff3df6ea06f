/** The session engine (README §1): one serialized writer per session, the turn slot, the LLM boundaries, log subscriptions. */
export * from './errors.ts';
export * from './engine.ts';
export type { Subscription, SubscribeOptions } from './subscription.ts';
