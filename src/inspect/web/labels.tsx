/**
 * Labels on the page: a checked label is a yellow tag naming its record; a
 * label that disagrees with the log (`mismatch`) is never shown as a point,
 * only as a red line with its typed error.
 */
import type { LabelView } from '../views.ts';

/** A checked label. */
export type OkLabel = Extract<LabelView, { status: 'ok' }>;

/** The checked labels that name a record of `sessionId`. */
export const labelsOn = (labels: readonly LabelView[], sessionId: string): OkLabel[] => labels.filter((l): l is OkLabel => l.status === 'ok' && l.sessionId === sessionId);

/** The labels held by `sessionId` that disagree with the log. */
export const mismatchesOf = (labels: readonly LabelView[], sessionId: string): Array<Extract<LabelView, { status: 'mismatch' }>> =>
  labels.filter((l): l is Extract<LabelView, { status: 'mismatch' }> => l.status === 'mismatch' && l.setOn === sessionId);

/** A label tag: `name @ seq`. */
export const LabelTag = ({ l }: { l: OkLabel }) => (
  <span class="label" data-testid="label-tag" data-label={l.label} title={`label ${l.label}: ${l.sessionId} seq ${l.seq}, revision ${l.revision}${l.pi !== undefined ? ` (pi entry ${l.pi})` : ''}`}>
    {l.label} @ {l.seq}
  </span>
);

/** The red lines of labels that disagree with the log. */
export const Mismatches = ({ labels, sessionId }: { labels: readonly LabelView[]; sessionId: string }) => (
  <>
    {mismatchesOf(labels, sessionId).map((l) => (
      <p key={l.label} class="broken-banner" data-testid="label-mismatch" data-label={l.label}>
        label {l.label} not shown: {l.error.message} [{l.error._tag}]
      </p>
    ))}
  </>
);

/** Why labels and original times are missing, when the head could not be read. */
export const AnnotationsError = ({ error }: { error: { _tag: string; message: string } | undefined }) =>
  error === undefined ? null : (
    <p class="error-text" data-testid="annotations-error">
      labels and original times not shown: {error.message} [{error._tag}]
    </p>
  );
