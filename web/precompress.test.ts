import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { MIN_BYTES, variants } from './precompress';

describe('variants', () => {
  it('skips files under the minimum', () => {
    expect(variants(Buffer.from('x'.repeat(MIN_BYTES - 1)))).toEqual([]);
  });

  it('writes brotli and gzip copies that decode to the file', () => {
    const data = Buffer.from('function hello() { return "hello"; }\n'.repeat(100));
    const out = variants(data);
    expect(out.map((v) => v.ext)).toEqual(['.br', '.gz']);
    expect(brotliDecompressSync(out[0].data).equals(data)).toBe(true);
    expect(gunzipSync(out[1].data).equals(data)).toBe(true);
  });

  it('writes no copy that is not smaller', () => {
    expect(variants(randomBytes(4096))).toEqual([]);
  });
});
