/**
 * The arbitraries every property spec uses: those of `palimpsest/testing`
 * (`src/testing/arbitraries/`), re-exported so there is one definition of a valid
 * value, plus `cheapMessage` for long transcripts (spec infrastructure only).
 */
import type { Message } from '../../src/model/index.ts';

export * from '../../src/testing/arbitraries/model.ts';
export * from '../../src/testing/arbitraries/transcript.ts';

/**
 * A cheap message for long transcripts (hundreds of messages): a user or assistant
 * text, or a notice, from the index `i` and a salt.
 */
export const cheapMessage = (i: number, salt = 0): Message => {
  switch (i % 3) {
    case 0:
      return { role: 'user', content: [{ type: 'text', text: `u${i}.${salt}` }], transcriptRole: 'conversational', createdAt: i };
    case 1:
      return { role: 'assistant', content: [{ type: 'text', text: `a${i}.${salt}` }], stopReason: 'end_turn', createdAt: i };
    default:
      return { role: 'system_notice', kind: 'generic', text: `n${i}.${salt}`, createdAt: i };
  }
};
