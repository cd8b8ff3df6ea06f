/**
 * Notice texts for the boundary (tool-visibility.md §8). The templates are
 * normative; names are joined with `", "` and a clause whose list is empty is
 * omitted. The session appends them as `system_notice` messages of kind
 * `tool_scope` (after a boundary whose report has `visibleChanged`) and
 * `tool_scope_warning` (with `tool_boundary_failed`).
 */
import type { BoundaryReport } from './codecs.ts';

/** The `system_notice` kind announcing a change of the visible tools. */
export const TOOL_SCOPE_NOTICE_KIND = 'tool_scope';
/** The `system_notice` kind announcing that tool access is closed after a failed boundary. */
export const TOOL_SCOPE_WARNING_KIND = 'tool_scope_warning';

/**
 * `Tool access changed (revision {revision}). Now available: {added}. No longer available: {removed}.`
 * e.g. `Tool access changed (revision 7). Now available: jira_create. No longer available: shell.`
 */
export const toolScopeNoticeText = (report: Pick<BoundaryReport, 'revision' | 'added' | 'removed'>): string => {
  let text = `Tool access changed (revision ${report.revision}).`;
  if (report.added.length > 0) text += ` Now available: ${report.added.join(', ')}.`;
  if (report.removed.length > 0) text += ` No longer available: ${report.removed.join(', ')}.`;
  return text;
};

/** The `data` of a `tool_scope` notice: `{ revision, added, removed, baseChanged }` (fresh arrays). */
export const toolScopeNoticeData = (
  report: Pick<BoundaryReport, 'revision' | 'added' | 'removed' | 'baseChanged'>,
): { revision: number; added: string[]; removed: string[]; baseChanged: boolean } => ({
  revision: report.revision,
  added: [...report.added],
  removed: [...report.removed],
  baseChanged: report.baseChanged,
});

/**
 * `Tool access is closed until the next successful tool update ({errorTag}: {message}).`
 * e.g. `... update (InvalidCatalog: duplicate tool names: grep).`
 */
export const toolScopeWarningText = (errorTag: string, message: string): string =>
  `Tool access is closed until the next successful tool update (${errorTag}: ${message}).`;

/** The `data` of a `tool_scope_warning` notice: `{ errorTag, message }`. */
export const toolScopeWarningData = (errorTag: string, message: string): { errorTag: string; message: string } => ({ errorTag, message });
