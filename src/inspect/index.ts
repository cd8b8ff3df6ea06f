/**
 * `palimpsest/inspect`: the audit views of a store. `createInspectorHandler`
 * mounts the read-only inspector (page and JSON API) on an application's own
 * server for its live store; `serveInspector` runs it on 127.0.0.1;
 * `staticInspectorPage` writes it as one self-contained HTML file; `diffMessages`
 * / `comparePoints` are the message-level diff behind `palimpsest diff`.
 */
export { createInspectorHandler, isLoopbackRequest, type InspectorHandler, type InspectorHandlerOptions } from './handler.ts';
export { liveStore, storeAtPath, type StoreAccess, type StoreOpener } from './access.ts';
export { loadInspectorAssets, type InspectorAssets, type AssetsUnavailable } from './assets.ts';
export { serveInspector, type RunningInspector, type ListenFailed, type ServeOptions } from './server.ts';
export { staticInspectorPage, staticInspectorData, type StaticPageOptions } from './static.ts';
export { noLabelSource, storeLabelSource, listLabels, resolveStoreLabel, type LabelSource } from './labels.ts';
export { readScope } from './scope.ts';
export { originalTimes } from './times.ts';
export { diffDigests, diffMessages, diffMessageSpans, messageDigest, type DiffCounts, type DiffHunk, type DiffOptions, type IndexSpan, type MessageDiff, type SpanDiff, type SpanHunk } from './diff.ts';
export { textDiffs, type HunkTextDiff } from './textDiff.ts';
export { comparePoints, loadPoints, type Comparison, type LoadedPoints, type PointInfo } from './compare.ts';
export { parsePoint, loadPoint, type Point, type PointError, type LabelResolver } from './points.ts';
export type * from './views.ts';
