import { describe, expect, it } from 'vitest';
import * as E from 'fp-ts/lib/Either.js';
import {
  assistantMessage,
  assistantText,
  assistantToolCalls,
  stampMessage,
  systemNotice,
  toolResult,
  toolResults,
  toolUse,
  userText,
  type Message,
  type MessageInput,
} from '../../src/model/index.ts';
import { awaitingToolResults, checkAppend, transcriptFromMessages, validateTranscriptShape } from '../../src/transcript/index.ts';

const s = (ms: MessageInput[]): Message[] => ms.map((m) => stampMessage(m, 1));
const calls = (...ids: string[]) => assistantToolCalls(ids.map((id) => ({ id, name: 'read', args: { path: id } })));
const results = (...ids: string[]) => toolResults(ids.map((id) => toolResult(id, `out ${id}`)));

const shapeError = (r: E.Either<unknown, void>) => {
  expect(E.isLeft(r)).toBe(true);
  return (r as E.Left<{ _tag: string; index: number; message: string }>).left;
};

describe('validateTranscriptShape', () => {
  it('accepts valid transcripts', () => {
    expect(validateTranscriptShape([])).toEqual(E.right(undefined));
    expect(validateTranscriptShape(s([userText('q'), calls('a', 'b'), results('b', 'a'), assistantText('done'), userText('more')]))).toEqual(
      E.right(undefined),
    );
    // an assistant with text and tool uses, results in any order
    const mixed = assistantMessage([{ type: 'text', text: 'let me look' }, toolUse('x', 'ls', {}), toolUse('y', 'cat', { f: 1 })], 'tool_use');
    expect(E.isRight(validateTranscriptShape(s([userText('q'), mixed, results('y', 'x')])))).toBe(true);
  });

  it('names the found and expected id sets', () => {
    const e = shapeError(validateTranscriptShape(s([userText('q'), systemNotice('generic', 'n'), calls('a', 'b'), results('a')])));
    expect(e).toEqual({ _tag: 'InvalidTranscriptShape', index: 3, message: 'tool_results at message 3 resolves {a}, expected {a, b}' });
  });

  it('refuses a result id the assistant did not ask for', () => {
    const e = shapeError(validateTranscriptShape(s([calls('a'), results('a', 'z')])));
    expect(e.index).toBe(1);
    expect(e.message).toBe('tool_results at message 1 resolves {a, z}, expected {a}');
  });

  it('refuses tool_results that do not follow an assistant with tool uses', () => {
    expect(shapeError(validateTranscriptShape(s([results('a')])))).toMatchObject({ index: 0, message: expect.stringContaining('first message') });
    expect(shapeError(validateTranscriptShape(s([userText('q'), results('a')])))).toMatchObject({ index: 1, message: expect.stringContaining('user') });
    expect(shapeError(validateTranscriptShape(s([assistantText('hi'), results('a')])))).toMatchObject({
      index: 1,
      message: expect.stringContaining('no tool uses'),
    });
    // a second tool_results after the first is stranded too
    expect(shapeError(validateTranscriptShape(s([calls('a'), results('a'), results('a')])))).toMatchObject({ index: 2 });
  });

  it('refuses duplicate result ids and duplicate tool_use ids', () => {
    expect(shapeError(validateTranscriptShape(s([calls('a', 'b'), results('a', 'a')])))).toEqual({
      _tag: 'InvalidTranscriptShape',
      index: 1,
      message: 'tool_results at message 1 has duplicate toolUseId "a"',
    });
    expect(shapeError(validateTranscriptShape(s([userText('q'), calls('a', 'a'), results('a')])))).toEqual({
      _tag: 'InvalidTranscriptShape',
      index: 1,
      message: 'assistant message 1 has duplicate tool_use id "a"',
    });
  });

  it('refuses a message other than tool_results after unresolved tool uses', () => {
    const e = shapeError(validateTranscriptShape(s([userText('q'), calls('a'), userText('??'), results('a')])));
    expect(e.index).toBe(2);
    expect(e.message).toContain('{a}');
    expect(e.message).toContain('unresolved');
  });

  it('refuses a trailing unresolved tool call unless told a tool is running', () => {
    const ms = s([userText('q'), calls('a', 'b')]);
    const e = shapeError(validateTranscriptShape(ms));
    expect(e.index).toBe(1);
    expect(e.message).toBe('assistant message 1 has tool uses {a, b} with no tool_results after it');
    expect(validateTranscriptShape(ms, { allowPendingToolUse: true })).toEqual(E.right(undefined));
  });
});

describe('checkAppend', () => {
  const base = transcriptFromMessages(s([userText('q'), calls('a', 'b')]));

  it('accepts the results of the pending call, and a pending call at the end', () => {
    expect(checkAppend(base, s([results('a', 'b'), assistantText('ok')]))).toEqual(E.right(undefined));
    expect(checkAppend(transcriptFromMessages(s([userText('q')])), s([calls('c')]))).toEqual(E.right(undefined));
    expect(checkAppend(base, [])).toEqual(E.right(undefined));
  });

  it('indexes errors in the whole transcript', () => {
    expect(shapeError(checkAppend(base, s([results('a')])))).toEqual({
      _tag: 'InvalidTranscriptShape',
      index: 2,
      message: 'tool_results at message 2 resolves {a}, expected {a, b}',
    });
    expect(shapeError(checkAppend(base, s([userText('interrupt')])))).toMatchObject({ index: 2 });
    expect(shapeError(checkAppend(base, s([results('a', 'b'), results('a', 'b')])))).toMatchObject({ index: 3 });
    expect(shapeError(checkAppend(base, s([results('a', 'b'), calls('x', 'x')])))).toMatchObject({ index: 3 });
    expect(shapeError(checkAppend(transcriptFromMessages([]), s([results('a')])))).toMatchObject({ index: 0 });
  });

  it('reads only the last message of the transcript', () => {
    // an invalid transcript (imported without checks) still accepts a valid append after it
    const broken = transcriptFromMessages(s([results('zz'), userText('q')]));
    expect(checkAppend(broken, s([assistantText('a')]))).toEqual(E.right(undefined));
  });
});

describe('awaitingToolResults', () => {
  it('is true only when the last message is an assistant with tool uses', () => {
    expect(awaitingToolResults(transcriptFromMessages([]))).toBe(false);
    expect(awaitingToolResults(transcriptFromMessages(s([userText('q'), calls('a')])))).toBe(true);
    expect(awaitingToolResults(transcriptFromMessages(s([userText('q'), calls('a'), results('a')])))).toBe(false);
    expect(awaitingToolResults(transcriptFromMessages(s([assistantText('hi', { stopReason: 'tool_use' })])))).toBe(false);
  });
});
