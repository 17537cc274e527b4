import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

// Files the gateway may send compressed: text, which compresses well.
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map)$/;

/** Files smaller than this are sent as they are: compression saves too
 * little to be worth a variant. */
export const MIN_BYTES = 1024;

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** The .br and .gz variants to write beside a file of these bytes, each
 * only when it is smaller than the file. */
export function variants(data: Buffer): { ext: string; data: Buffer }[] {
  if (data.length < MIN_BYTES) return [];
  const br = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  const gz = gzipSync(data, { level: 9 });
  return [
    { ext: '.br', data: br },
    { ext: '.gz', data: gz },
  ].filter((v) => v.data.length < data.length);
}

/** Writes a brotli (.br) and a gzip (.gz) copy beside every compressible
 * file of the build over MIN_BYTES, for the gateway to send to browsers
 * that accept them (web/web.go); the originals stay for those that don't. */
export function precompress(): Plugin {
  return {
    name: 'sluice-precompress',
    apply: 'build',
    async writeBundle(options) {
      if (!options.dir) return;
      for await (const path of walk(options.dir)) {
        if (!COMPRESSIBLE.test(path) || (await stat(path)).size < MIN_BYTES) continue;
        const data = await readFile(path);
        for (const v of variants(data)) await writeFile(path + v.ext, v.data);
      }
    },
  };
}
