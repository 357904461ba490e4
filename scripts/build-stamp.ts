// What a build of the published packages was made from and what it made, so that a
// second build from the same inputs can be skipped: `npm test` builds the packages
// before vitest, and the packages test would otherwise build them again (about 35 s of
// CPU, most of it the declarations). The stamp lives in each package's dist/ (which
// npm pack leaves out: the packages' `files` name only the build's outputs).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'build-stamp.json';
const SKIP = new Set(['dist', 'node_modules']);

interface Stamp {
  inputs: string;
  outputs: Record<string, string>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

function filesUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(root, path) : [path];
  });
}

/** The workspace folders a package's build reads: its own and those of the @kaskade packages it declares, transitively. */
function workspaceClosure(root: string, folders: string[]): string[] {
  const { workspaces } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  const manifest = (dir: string) =>
    JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
  const folderOf = new Map(workspaces.map((dir) => [manifest(dir).name, dir]));
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const { dependencies, devDependencies } = manifest(dir);
    for (const name of Object.keys({ ...dependencies, ...devDependencies })) {
      const folder = folderOf.get(name);
      if (folder) visit(folder);
    }
  };
  for (const folder of folders) visit(folder);
  return [...seen].sort();
}

/**
 * One hash of every file the build reads: the packages' workspaces and those they use
 * (sources, manifests, build scripts), the build's own files, and the lockfile (the
 * versions of esbuild, TypeScript and the bundled dependencies).
 */
export function buildInputs(root: string, folders: string[], buildFiles: string[]): string {
  const files = [
    ...workspaceClosure(root, folders).flatMap((dir) => filesUnder(root, dir)),
    ...buildFiles,
  ].sort();
  return sha256(files.map((f) => `${f}\0${sha256(readFileSync(join(root, f)))}\n`).join(''));
}

/** Records, in `distDir`, the inputs a build was made from and the hash of each output. */
export function writeStamp(distDir: string, inputs: string, outputs: string[]): void {
  const stamp: Stamp = {
    inputs,
    outputs: Object.fromEntries(outputs.map((o) => [o, sha256(readFileSync(join(distDir, o)))])),
  };
  writeFileSync(join(distDir, STAMP), `${JSON.stringify(stamp, null, 2)}\n`);
}

/** True if `distDir` holds outputs a build from these very inputs made, unchanged since. */
export function isCurrent(distDir: string, inputs: string): boolean {
  const file = join(distDir, STAMP);
  if (!existsSync(file)) return false;
  const stamp = JSON.parse(readFileSync(file, 'utf8')) as Stamp;
  return (
    stamp.inputs === inputs &&
    Object.entries(stamp.outputs).every(
      ([o, hash]) => existsSync(join(distDir, o)) && sha256(readFileSync(join(distDir, o))) === hash,
    )
  );
}
