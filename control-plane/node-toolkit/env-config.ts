import Type, { type Static, type TObject, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { ConfigError } from './config-error.ts';

/**
 * Typed configuration from environment variables. A config is a TypeBox object whose
 * every property names its variable in `env`; values are coerced from strings by the
 * property's schema type, then the whole object is validated against the schema, so
 * the type and the validation come from one place.
 */
export interface EnvOption {
  env: string;
  description: string;
  /** How the default reads in docs when it depends on the machine (e.g. "one per core"). */
  defaultText?: string;
}

export function option<T extends TSchema>(schema: T, opts: EnvOption): T {
  return { ...schema, ...opts } as T;
}

function coerce(schema: TSchema & { type?: string }, raw: string): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number':
      return raw.trim() === '' ? raw : Number(raw);
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      return raw;
    default:
      return raw;
  }
}

function describe(schema: Record<string, unknown>): string {
  const parts: string[] = [];
  if (schema.type) parts.push(`a${schema.type === 'integer' ? 'n' : ''} ${schema.type}`);
  if (schema.minimum !== undefined) parts.push(`>= ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`<= ${schema.maximum}`);
  if (schema.minLength !== undefined) parts.push(`at least ${schema.minLength} characters`);
  if (Array.isArray(schema.anyOf))
    parts.push(`one of ${schema.anyOf.map((s) => JSON.stringify(s.const)).join(', ')}`);
  if (schema.pattern) parts.push(`matching ${schema.pattern}`);
  return parts.join(', ');
}

export function loadEnvConfig<T extends TObject>(
  schema: T,
  env: Record<string, string | undefined> = process.env,
): Static<T> {
  const value: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, prop] of Object.entries(schema.properties) as [
    string,
    TSchema & Record<string, unknown>,
  ][]) {
    const name = prop.env as string;
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (prop.default !== undefined) value[key] = prop.default;
      continue;
    }
    const coerced = coerce(prop, raw);
    if (!Compile(prop).Check(coerced)) {
      problems.push(
        `${name}=${JSON.stringify(raw)} is not valid: expected ${describe(prop)} (${prop.description})`,
      );
      continue;
    }
    value[key] = coerced;
  }
  for (const key of schema.required ?? []) {
    const prop = schema.properties[key] as Record<string, unknown>;
    if (value[key] === undefined && !problems.some((p) => p.startsWith(`${prop.env}=`))) {
      problems.push(`${prop.env} is required (${prop.description})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return value as Static<T>;
}

/** Markdown table of a config schema's variables, for the README. */
export function describeEnvConfig(schema: TObject): string {
  const rows = Object.values(schema.properties).map((p) => {
    const prop = p as Record<string, unknown>;
    const def = prop.defaultText ?? (prop.default === undefined ? '—' : `\`${String(prop.default)}\``);
    return `| \`${prop.env}\` | ${prop.description} | ${def} |`;
  });
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}

export { Type };
