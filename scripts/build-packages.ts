// Builds the two packages an application installs, as they are published:
//   @kaskade/client-sdk  client-sdk/dist/kaskade.js (+ .map) and kaskade.d.ts
//   @kaskade/server-sdk  control-plane/server-sdk/dist/index.js (+ .map) and index.d.ts
// The JavaScript is bundled by each package's build.ts (esbuild); the declarations are
// generated here from the sources, in one compilation for both, with @kaskade/protocol
// (unpublished) inlined and mediasoup's RTP types taken from mediasoup-client (what the
// browser side of the wire is). `npm pack` runs this first (the packages' prepack).
// With --if-stale it builds only if the sources changed since the last build or its
// outputs did (scripts/build-stamp.ts): the packages test reuses what `npm test` built.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDtsBundle } from 'dts-bundle-generator';
import { buildInputs, isCurrent, writeStamp } from './build-stamp.ts';

const at = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

const packages = [
  {
    name: '@kaskade/client-sdk',
    build: 'client-sdk/build.ts',
    entry: 'client-sdk/src/index.ts',
    bundle: 'client-sdk/dist/kaskade.js',
    types: 'client-sdk/dist/kaskade.d.ts',
    inlined: ['mediasoup-client'],
  },
  {
    name: '@kaskade/server-sdk',
    build: 'control-plane/server-sdk/build.ts',
    entry: 'control-plane/server-sdk/index.ts',
    bundle: 'control-plane/server-sdk/dist/index.js',
    types: 'control-plane/server-sdk/dist/index.d.ts',
    inlined: [],
  },
];

const root = at('');
const distOf = (p: (typeof packages)[number]) => dirname(at(p.bundle));
const inputs = buildInputs(
  root,
  packages.map((p) => dirname(p.build)),
  [
    'scripts/build-packages.ts',
    'scripts/build-stamp.ts',
    'scripts/packages.tsconfig.json',
    'tsconfig.json',
    'package-lock.json',
  ],
);
if (process.argv.includes('--if-stale') && packages.every((p) => isCurrent(distOf(p), inputs))) {
  console.log('packages: built from these sources already');
  process.exit(0);
}

for (const p of packages) execFileSync(process.execPath, [at(p.build)], { stdio: 'inherit' });

const declarations = generateDtsBundle(
  packages.map((p) => ({
    filePath: at(p.entry),
    noCheck: true,
    libraries: { inlinedLibraries: p.inlined },
    output: { exportReferencedTypes: false, noBanner: true },
  })),
  { preferredConfigPath: at('scripts/packages.tsconfig.json') },
);

/**
 * The bundler keeps `export` on a schema constant whose type the entry re-exports under
 * the same name (`export type { Source }`): the declarations would then promise a value
 * the bundle does not have. Only the bundle's own exports stay exported values.
 */
async function onlyBundledValues(text: string, bundle: string): Promise<string> {
  const exported = new Set(Object.keys(await import(at(bundle))));
  return text.replace(
    /^export declare (const|function|class|let) ([A-Za-z_$][\w$]*)/gm,
    (line, kind: string, name: string) => (exported.has(name) ? line : `declare ${kind} ${name}`),
  );
}

for (const [i, p] of packages.entries()) {
  const header = `// ${p.name}: generated from its sources by scripts/build-packages.ts\n\n`;
  writeFileSync(at(p.types), header + (await onlyBundledValues(declarations[i]!, p.bundle)));
  console.log(`${p.types}: ${(readFileSync(at(p.types)).length / 1024).toFixed(0)} KiB`);
}
for (const p of packages) {
  const outputs = [p.bundle, `${p.bundle}.map`, p.types].map((f) => relative(distOf(p), at(f)));
  writeStamp(distOf(p), inputs, outputs);
}
