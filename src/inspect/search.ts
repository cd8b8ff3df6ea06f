/**
 * Search over message texts (pure; the server's search and the static page's
 * local search both use it): case-insensitive substring of `messageText`.
 */
import { messageText } from '../model/projections.ts';
import type { Message } from '../model/message.ts';
import { roleLabel } from '../cli/format.ts';
import type { SearchView } from './views.ts';

/** Search hits returned at most. */
export const SEARCH_LIMIT = 200;

/** The messages whose text contains `query` (case-insensitive), with a snippet around the first match; at most `SEARCH_LIMIT` hits, `total` counts all. `first` is the index of `messages[0]`. */
export const searchMessages = (sessionId: string, messages: readonly Message[], query: string, first = 0): SearchView => {
  const q = query.toLowerCase();
  const hits: Array<{ index: number; role: string; snippet: string }> = [];
  let total = 0;
  if (q !== '') {
    messages.forEach((m, index) => {
      const text = messageText(m);
      const at = text.toLowerCase().indexOf(q);
      if (at < 0) return;
      total++;
      if (hits.length < SEARCH_LIMIT) hits.push({ index: first + index, role: roleLabel(m), snippet: text.slice(Math.max(0, at - 60), at + q.length + 60).replace(/\s+/g, ' ') });
    });
  }
  return { sessionId, query, total, hits };
};

