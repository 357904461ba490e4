import { build } from 'esbuild';

/** Bundles the SDK for browsers: one ES module usable from <script type="module">. */
const result = await build({
  entryPoints: [new URL('./src/index.ts', import.meta.url).pathname],
  outfile: new URL('./dist/kaskade.js', import.meta.url).pathname,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  metafile: true,
  logLevel: 'warning',
});
const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
console.log(`client-sdk/dist/kaskade.js: ${(bytes / 1024).toFixed(0)} KiB`);
