import { build } from 'esbuild';

/**
 * Bundles the server SDK for Node: one ES module with @kaskade/protocol compiled in (it is
 * not published); its published dependencies (jose, typebox) stay imports.
 */
const result = await build({
  entryPoints: [new URL('./index.ts', import.meta.url).pathname],
  outfile: new URL('./dist/index.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: ['node20'],
  external: ['jose', 'typebox', 'typebox/*'],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`control-plane/server-sdk/dist/index.js: ${(bytes / 1024).toFixed(0)} KiB`);
