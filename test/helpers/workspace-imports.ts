import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One npm workspace of the repository: a folder whose public surface is its `exports` map. */
export interface Workspace {
  name: string;
  dir: string; // relative to the repository, with '/'
  exports: string[]; // the subpaths it exports: '.', './browser', ...
  dependencies: string[]; // the @kaskade/* packages it declares
}

export interface ImportSite {
  file: string;
  specifier: string;
}

const SKIP = new Set(['node_modules', '.git', '.tools', 'dist', 'reports', 'test-results']);
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'([^']+)'/gm;

export function readWorkspaces(root: string, scope = '@kaskade'): Workspace[] {
  const rootManifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  return rootManifest.workspaces.map((dir) => {
    const manifest = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, unknown>; // subpath -> a file, or conditions -> files
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    return {
      name: manifest.name,
      dir,
      exports: Object.keys(manifest.exports),
      // devDependencies count: a published package declares there what its build bundles in.
      dependencies: Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((d) =>
        d.startsWith(`${scope}/`),
      ),
    };
  });
}

export function sourceFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const rel = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...sourceFiles(root, rel));
    else if (rel.endsWith('.ts')) out.push(rel);
  }
  return out;
}

export function importsOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => m[1]!);
}

/** The workspace a file belongs to, or undefined for the root's own tooling (test/, scripts/, ...). */
export function ownerOf(file: string, workspaces: readonly Workspace[]): Workspace | undefined {
  return workspaces.find((w) => file === w.dir || file.startsWith(`${w.dir}/`));
}

/**
 * Every import that reaches into another folder other than through that folder's
 * public entry, and every package of the scope a workspace uses without declaring it.
 */
export function boundaryViolations(root: string, scope = '@kaskade'): string[] {
  const workspaces = readWorkspaces(root, scope);
  const byName = new Map(workspaces.map((w) => [w.name, w]));
  const problems: string[] = [];
  for (const file of sourceFiles(root)) {
    const owner = ownerOf(file, workspaces);
    const topFolder = file.split('/')[0];
    for (const specifier of importsOf(readFileSync(path.join(root, file), 'utf8'))) {
      if (specifier.startsWith('.')) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
        const targetOwner = ownerOf(target, workspaces);
        if (targetOwner !== owner) {
          problems.push(
            `${file}: '${specifier}' reaches into ${targetOwner?.name ?? target}; import its package`,
          );
        } else if (!owner && target.split('/')[0] !== topFolder) {
          problems.push(`${file}: '${specifier}' reaches into another folder (${target})`);
        }
        continue;
      }
      const match = new RegExp(`^(${scope}/[^/]+)(/.*)?$`).exec(specifier);
      if (!match) continue;
      const target = byName.get(match[1]!);
      const subpath = `.${match[2] ?? ''}`;
      if (!target) problems.push(`${file}: '${specifier}' is no workspace`);
      else if (!target.exports.includes(subpath)) problems.push(`${file}: '${specifier}' is not exported`);
      else if (owner && owner !== target && !owner.dependencies.includes(target.name)) {
        problems.push(`${file}: ${owner.name} uses ${target.name} without declaring it in package.json`);
      }
    }
  }
  return problems;
}
