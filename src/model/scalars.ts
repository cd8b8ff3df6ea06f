/**
 * Scalar codecs (model.md §1): `Digest`, `BlobId`, `Millis`, `TokenCount`.
 */
import type * as t from 'io-ts';
import { nat, refine, str, type Codec } from './decode.ts';

const digestRe = /^sha256:[0-9a-f]{64}$/;

/** `sha256:<64 lowercase hex>`; the form of every digest, revision and blob id. */
export type Digest = string;
/** A `Digest` string. */
export const DigestCodec: Codec<Digest> = refine(str, 'Digest', (s) => (digestRe.test(s) ? undefined : `expected sha256:<64 lowercase hex>, found ${JSON.stringify(s.slice(0, 80))}`));
/** Whether `s` is a well-formed digest string. */
export const isDigest = (s: unknown): s is Digest => typeof s === 'string' && digestRe.test(s);

/** A blob id: a digest computed as in model.md §7.2. */
export type BlobId = Digest;
/** A `BlobId` string. */
export const BlobIdCodec: Codec<BlobId> = DigestCodec;

/** Milliseconds since the Unix epoch: a non-negative safe integer. */
export const MillisCodec: Codec<number> = nat;
/** Milliseconds since the Unix epoch. */
export type Millis = t.TypeOf<typeof MillisCodec>;

/** A token count: a non-negative safe integer. */
export const TokenCountCodec: Codec<number> = nat;
/** A token count. */
export type TokenCount = t.TypeOf<typeof TokenCountCodec>;
