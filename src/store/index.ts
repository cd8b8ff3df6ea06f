/** The store on LevelDB or PostgreSQL (README §4): `SessionStore.open`, its errors, and the stored shapes. Layout and data flow: `layout.ts`. */
export * from './errors.ts';
export * from './store.ts';
export type { SessionVerifyReport, VerifyProblem, VerifyProgress } from './verify.ts';
export { SNAPSHOT_VERSION } from './snapshot.ts';
export { STORE_FORMAT_VERSION, HEADER_VERSION, keys as storeKeys, sessionIdProblem } from './layout.ts';
export type { SessionHeader, HeaderFork, ForkLink } from './io.ts';
export { LazyReadFailure, isLazyReadFailure } from './chunks.ts';
export * from './labels.ts';
export { copySessions, type CopyReport, type CopiedHead, type CopyError, type CopyMismatch } from './copy.ts';
export { anchorOf, anchorLine, parseAnchors, AnchorCodec, AnchorHeadCodec, type Anchor, type AnchorHead, type AnchorProblem, type InvalidAnchor } from './anchors.ts';
