/**
 * `putBlob` stores `UTF-8(mediaType) 0x00 bytes` whether `bytes` is a fresh
 * array or a view whose buffer already holds that head right before it (then
 * stored without a copy): same id, same stored value, same bytes read back;
 * a view preceded by anything else is stored with only its own bytes.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { blobId } from '../../src/model/digest.ts';
import { blobValueHead } from '../../src/store/blobs.ts';
import { backends } from './backends.ts';
import { cleanupDirs, right } from './helpers.ts';

afterEach(cleanupDirs);
afterAll(async () => {
  for (const b of backends) await b.cleanup();
});

const text = new TextEncoder();

/** `bytes` as a view into a larger buffer that holds `before` right before it and `after` right after it. */
const viewAfter = (before: Uint8Array, bytes: Uint8Array, after: Uint8Array): Uint8Array => {
  const buffer = new Uint8Array(before.length + bytes.length + after.length);
  buffer.set(before, 0);
  buffer.set(bytes, before.length);
  buffer.set(after, before.length + bytes.length);
  return buffer.subarray(before.length, before.length + bytes.length);
};

describe.each(backends)('putBlob on $name', (b) => {
  it('stores a view preceded by its stored head like a copy of its bytes, and a view preceded by other bytes without them', async () => {
    const mediaType = 'application/json';
    const bytes = text.encode('{"v":1,"times":[1,2,3]}');
    const head = blobValueHead(mediaType);
    expect(Array.from(head)).toEqual([...text.encode(mediaType), 0]);
    const views = [
      viewAfter(head, bytes, text.encode('tail')),
      viewAfter(text.encode('xx'), bytes, new Uint8Array()),
      viewAfter(text.encode(`${mediaType}\u0001`), bytes, new Uint8Array()),
      viewAfter(text.encode('image/png\u0000'), bytes, new Uint8Array()),
      viewAfter(new Uint8Array(), bytes, new Uint8Array()),
    ];
    const expectedId = blobId(mediaType, bytes);
    for (const view of views) {
      const dir = b.fresh();
      const store = await b.open(dir);
      expect(right(await store.putBlob(mediaType, view))).toBe(expectedId);
      expect(right(await store.getBlob(expectedId))).toEqual({ mediaType, bytes });
      right(await store.close());
      let stored: Uint8Array | undefined;
      await b.tamperBlob(dir, expectedId, (old) => (stored = Uint8Array.from(old)));
      expect(Array.from(stored!)).toEqual([...head, ...bytes]);
    }
  });
});
