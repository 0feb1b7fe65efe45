/**
 * Generates the TypeScript types of the `.avsc` files (`schemas/avro-types.ts`): one interface per
 * named record, a string-literal union per enum. `scripts/gen-schema-types.ts` writes the file; a
 * test regenerates it and fails when the committed copy is stale, so a schema and its type cannot
 * drift apart.
 *
 * The types describe what a producer may write and what a consumer reads: a field that is a union
 * with null and defaults to null is optional (`field?: T | null`); a decoded record always has it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type AvroSchema = string | AvroSchema[] | { readonly type: string; readonly [key: string]: unknown };

interface AvroField {
  readonly name: string;
  readonly type: AvroSchema;
  readonly doc?: string;
  readonly default?: unknown;
}

const PRIMITIVES: Readonly<Record<string, string>> = {
  null: 'null',
  boolean: 'boolean',
  int: 'number',
  long: 'number',
  float: 'number',
  double: 'number',
  bytes: 'Buffer',
  string: 'string',
};

const shortName = (name: string) => name.slice(name.lastIndexOf('.') + 1);

/** The folder of the `.avsc` files. */
export const AVRO_DIR = new URL('./avro/', import.meta.url).pathname;

/** The `.avsc` files of the tree, by file name without the extension, sorted. */
export function schemaFiles(dir = AVRO_DIR): Array<{ name: string; path: string }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.avsc'))
    .sort()
    .map((f) => ({ name: f.slice(0, -'.avsc'.length), path: join(dir, f) }));
}

/** Renders the TypeScript of every named type in `schemas` (in order; a name is rendered once). */
export function renderTypes(schemas: ReadonlyArray<{ file: string; schema: AvroSchema }>): string {
  const out: string[] = [];
  const seen = new Set<string>();

  const typeOf = (s: AvroSchema): string => {
    if (typeof s === 'string') return PRIMITIVES[s] ?? shortName(s);
    if (Array.isArray(s)) return s.map(typeOf).join(' | ');
    switch (s.type) {
      case 'record':
      case 'error':
        declareRecord(s);
        return shortName(s.name as string);
      case 'enum':
        declareEnum(s);
        return shortName(s.name as string);
      case 'array':
        return `ReadonlyArray<${typeOf(s.items as AvroSchema)}>`;
      case 'map':
        return `Readonly<Record<string, ${typeOf(s.values as AvroSchema)}>>`;
      case 'fixed':
        return 'Buffer';
      default:
        return PRIMITIVES[s.type] ?? shortName(s.type);
    }
  };

  const doc = (text: unknown, indent: string) =>
    typeof text === 'string' ? [`${indent}/** ${text} */`] : [];

  const declareEnum = (s: { readonly [key: string]: unknown }) => {
    const name = shortName(s.name as string);
    if (seen.has(name)) return;
    seen.add(name);
    const symbols = (s.symbols as string[]).map((x) => `'${x}'`).join(' | ');
    out.push(...doc(s.doc, ''), `export type ${name} = ${symbols};`, '');
  };

  const declareRecord = (s: { readonly [key: string]: unknown }) => {
    const name = shortName(s.name as string);
    if (seen.has(name)) return;
    seen.add(name);
    const lines: string[] = [];
    for (const f of s.fields as AvroField[]) {
      const optional = Array.isArray(f.type) && f.type[0] === 'null' && f.default === null;
      lines.push(...doc(f.doc, '  '), `  readonly ${f.name}${optional ? '?' : ''}: ${typeOf(f.type)};`);
    }
    out.push(...doc(s.doc, ''), `export interface ${name} {`, ...lines, '}', '');
  };

  for (const { file, schema } of schemas) {
    out.push(`// ${file}`);
    typeOf(schema);
  }
  return [
    '// Generated from schemas/avro/*.avsc by scripts/gen-schema-types.ts; do not edit.',
    '// Regenerate with `node scripts/gen-schema-types.ts` (a test fails while this file is stale).',
    '',
    ...out,
  ].join('\n');
}

/** The generated module for the tree's schemas. */
export function generateTypes(dir = AVRO_DIR): string {
  return renderTypes(
    schemaFiles(dir).map(({ name, path }) => ({
      file: `${name}.avsc`,
      schema: JSON.parse(readFileSync(path, 'utf8')) as AvroSchema,
    })),
  );
}
