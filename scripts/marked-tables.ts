// Generated tables in a markdown file, between <!-- PREFIX:NAME --> and <!-- /PREFIX:NAME -->
// markers: the command line shared by scripts/config-table.ts and scripts/protocol-doc.ts.
//   (no argument)  prints the tables
//   --write        rewrites the file between its markers
//   --check        exits 1 if the file's tables differ from the generated ones (or a marker is missing)
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The text with every marked table replaced by the generated one. */
export function withTables(text: string, prefix: string, tables: Record<string, string>): string {
  let out = text;
  for (const [name, table] of Object.entries(tables)) {
    const pattern = new RegExp(`(<!-- ${prefix}:${name} -->\\n)[\\s\\S]*?(<!-- /${prefix}:${name} -->)`);
    out = out.replace(pattern, (_, open: string, close: string) => `${open}${table}\n${close}`);
  }
  return out;
}

export function tablesCommand(
  file: URL,
  prefix: string,
  tables: Record<string, string>,
  script: string,
): void {
  const text = readFileSync(file, 'utf8');
  const shown = fileURLToPath(file).replace(`${process.cwd()}/`, '');
  if (process.argv.includes('--write')) writeFileSync(file, withTables(text, prefix, tables));
  else if (process.argv.includes('--check')) {
    const missing = Object.keys(tables).filter((name) => !text.includes(`<!-- ${prefix}:${name} -->`));
    if (missing.length > 0 || withTables(text, prefix, tables) !== text) {
      console.error(
        `${shown}'s tables are out of date (missing: ${missing.join(', ') || 'none'}); run: node ${script} --write`,
      );
      process.exitCode = 1;
    } else console.log(`${shown}'s tables match the schemas`);
  } else for (const [name, table] of Object.entries(tables)) console.log(`${name}:\n${table}\n`);
}
