/**
 * The optional history capabilities of the Agents SDK `Session` contract
 * (`@openai/agents-core` 0.14.3, `memory/session.ts`), pure: decoding a
 * `SessionHistoryTransaction`, the digest that makes a transaction idempotent
 * per `operationId`, and `SessionHistoryMutation`s applied to an item list.
 * The SDK's `MemorySession` is the reference; where it silently ignores bad
 * input (a mutation naming an unknown call id) this module returns a typed
 * error instead, so nothing is written.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { AgentInputItem, SessionHistoryMutation, SessionHistoryTransaction } from '@openai/agents-core';
import type { Digest } from '../../model/index.ts';
import { canonicalJsonUnsafe, jsonProblem } from '../../model/json.ts';
import { sha256OfUtf8 } from '../../model/hashing.ts';
import { isPlainObject } from '../../model/decode.ts';
import { normalizeAgentItem } from './agentsItems.ts';

/** A transaction argument the contract does not allow; `reason` names the field. Nothing is written. */
export interface InvalidHistoryTransaction {
  readonly _tag: 'InvalidHistoryTransaction';
  readonly reason: 'arguments' | 'operation_id' | 'transaction' | 'type' | 'fields' | 'items';
  readonly message: string;
}

/** `operationId` was already applied with a different transaction (the SDK's `MemorySession` refuses this too). Nothing is written. */
export interface HistoryOperationReused {
  readonly _tag: 'HistoryOperationReused';
  readonly operationId: string;
  readonly message: string;
}

/** A history mutation that cannot be applied: `unknown_call_id` (no `function_call` with that `callId`), or a malformed mutation. Nothing is written. */
export interface InvalidHistoryMutation {
  readonly _tag: 'InvalidHistoryMutation';
  /** Position of the mutation in `mutations`. */
  readonly index: number;
  readonly reason: 'unknown_call_id' | 'not_a_function_call' | 'unknown_type';
  readonly message: string;
}

const invalidTransaction = (reason: InvalidHistoryTransaction['reason'], message: string): InvalidHistoryTransaction => ({ _tag: 'InvalidHistoryTransaction', reason, message });

/** A decoded transaction: the operation id and the transaction as plain JSON. */
export interface DecodedHistoryTransaction {
  readonly operationId: string;
  readonly transaction: SessionHistoryTransaction;
}

const hasExactly = (o: object, keys: readonly string[]): boolean => {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.prototype.hasOwnProperty.call(o, k));
};

/** Every element present (no holes), a plain object, and JSON (no `Date`, `bigint`, typed array, cycle, …). */
const itemsOk = (u: unknown): u is AgentInputItem[] => {
  if (!Array.isArray(u)) return false;
  for (let i = 0; i < u.length; i++) if (!(i in u) || !isPlainObject(u[i]) || jsonProblem(u[i]) !== undefined) return false;
  return true;
};

/** A copy of validated JSON items (later changes by the caller do not reach what is recorded). */
const snapshot = (items: AgentInputItem[]): AgentInputItem[] => JSON.parse(JSON.stringify(items)) as AgentInputItem[];

/** Reads `operationId` and `transaction` once each; a throwing accessor is `undefined` (its message is not kept: it may hold secrets). */
const readEnvelope = (args: object): { operationId: unknown; transaction: unknown } | undefined => {
  try {
    const { operationId, transaction } = args as { operationId?: unknown; transaction?: unknown };
    return { operationId, transaction };
  } catch {
    return undefined;
  }
};

/**
 * Decodes `applyHistoryTransaction`'s argument as the SDK's `MemorySession`
 * does: `operationId` a string with a non-space character; `transaction`
 * exactly `{ type: 'append_items', items }` or
 * `{ type: 'replace_suffix', expectedSuffix, replacement }`; every item a
 * plain JSON object.
 */
export const decodeHistoryTransaction = (args: unknown): E.Either<InvalidHistoryTransaction, DecodedHistoryTransaction> => {
  if (!isPlainObject(args)) return E.left(invalidTransaction('arguments', 'Session history transaction arguments are invalid: expected { operationId, transaction }'));
  const envelope = readEnvelope(args);
  if (envelope === undefined) return E.left(invalidTransaction('arguments', 'Session history transaction arguments are invalid.'));
  const { operationId, transaction } = envelope;
  if (typeof operationId !== 'string' || operationId.trim() === '') return E.left(invalidTransaction('operation_id', 'Session history transaction operationId must be a non-empty string.'));
  if (!isPlainObject(transaction)) return E.left(invalidTransaction('transaction', 'Session history transaction must be an object.'));
  const t = transaction as Record<string, unknown>;
  switch (t.type) {
    case 'append_items':
      if (!hasExactly(t, ['type', 'items'])) return E.left(invalidTransaction('fields', 'Session history append transaction fields are invalid: expected exactly { type, items }'));
      if (!itemsOk(t.items)) return E.left(invalidTransaction('items', 'Session history transaction items contain invalid or unsupported data.'));
      return E.right({ operationId, transaction: { type: 'append_items', items: snapshot(t.items) } });
    case 'replace_suffix':
      if (!hasExactly(t, ['type', 'expectedSuffix', 'replacement'])) {
        return E.left(invalidTransaction('fields', 'Session history suffix transaction fields are invalid: expected exactly { type, expectedSuffix, replacement }'));
      }
      if (!itemsOk(t.expectedSuffix) || !itemsOk(t.replacement)) return E.left(invalidTransaction('items', 'Session history transaction items contain invalid or unsupported data.'));
      return E.right({ operationId, transaction: { type: 'replace_suffix', expectedSuffix: snapshot(t.expectedSuffix), replacement: snapshot(t.replacement) } });
    default:
      return E.left(invalidTransaction('type', `Unsupported session history transaction type ${JSON.stringify(t.type)}.`));
  }
};

/** The metadata key recording that `operationId` was applied (written in the same batch as the change). */
export const operationKey = (operationId: string): string => `${AGENTS_OPERATION_KEY_PREFIX}${operationId}`;
/** Prefix of the metadata keys of applied operations. */
export const AGENTS_OPERATION_KEY_PREFIX = 'agents.operation:';

/** SHA-256 of the canonical JSON of the transaction with every item normalized (`normalizeAgentItem`): two spellings the SDK treats alike have one digest. */
export const transactionDigest = (t: SessionHistoryTransaction): Digest => {
  const norm = (xs: readonly AgentInputItem[]) => xs.map(normalizeAgentItem);
  const body = t.type === 'append_items' ? { type: t.type, items: norm(t.items) } : { type: t.type, expectedSuffix: norm(t.expectedSuffix), replacement: norm(t.replacement) };
  return sha256OfUtf8(canonicalJsonUnsafe(body));
};

/** The value stored under `operationKey`: `{ type, digest }`. */
export const operationRecord = (t: SessionHistoryTransaction): { readonly type: string; readonly digest: Digest } => ({ type: t.type, digest: transactionDigest(t) });

const isFunctionCall = (i: unknown): i is Extract<AgentInputItem, { type: 'function_call' }> => isPlainObject(i) && (i as { type?: unknown }).type === 'function_call';

/**
 * Applies mutations in order, as the SDK's `applySessionHistoryMutations`:
 * `replace_function_call { callId, replacement }` puts `replacement` where the
 * first `function_call` with `callId` was and drops later ones with that id.
 * Unlike the SDK (which ignores it), an unknown `callId` is an error.
 */
export const applyHistoryMutations = (
  items: readonly AgentInputItem[],
  mutations: readonly SessionHistoryMutation[],
): E.Either<InvalidHistoryMutation, AgentInputItem[]> => {
  let next = [...items];
  for (let index = 0; index < mutations.length; index++) {
    const m: unknown = mutations[index];
    const type = isPlainObject(m) ? (m as { type?: unknown }).type : undefined;
    if (type !== 'replace_function_call') {
      return E.left({ _tag: 'InvalidHistoryMutation', index, reason: 'unknown_type', message: `history mutation ${index} has unsupported type ${JSON.stringify(type)}` });
    }
    const { callId, replacement } = m as { callId: unknown; replacement: unknown };
    if (!isFunctionCall(replacement) || jsonProblem(replacement) !== undefined) {
      return E.left({ _tag: 'InvalidHistoryMutation', index, reason: 'not_a_function_call', message: `history mutation ${index}: the replacement is not a JSON function_call item` });
    }
    if (!next.some((i) => isFunctionCall(i) && i.callId === callId)) {
      return E.left({ _tag: 'InvalidHistoryMutation', index, reason: 'unknown_call_id', message: `history mutation ${index}: no function_call with callId ${JSON.stringify(callId)}` });
    }
    let kept = false;
    next = next.flatMap((i) => {
      if (!(isFunctionCall(i) && i.callId === callId)) return [i];
      if (kept) return [];
      kept = true;
      return [structuredClone(replacement)];
    });
  }
  return E.right(next);
};
