/**
 * Schema evolution against a real Confluent-compatible registry: every committed version of each
 * `.avsc` (its git history, oldest first) is registered under a subject of its own with BACKWARD
 * compatibility, and the schema in the working tree must be accepted as the next version — a
 * consumer with the new schema can read everything written with the old ones. A control shows
 * the registry does refuse a breaking change.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { registryUrl } from '../test/services.ts';
import { schemaFiles } from './codegen.ts';
import { connectRegistry, type SchemaRegistry } from './serde.ts';

const root = new URL('..', import.meta.url).pathname;

/** The committed versions of a file, oldest first (empty outside a git checkout or before its first commit). */
function committedVersions(path: string): string[] {
  const relative = path.slice(root.length);
  let commits: string[];
  try {
    commits = execFileSync('git', ['log', '--format=%H', '--follow', '--', relative], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((c) => c.length > 0)
      .reverse();
  } catch {
    return [];
  }
  return commits.map((c) =>
    execFileSync('git', ['show', `${c}:${relative}`], { cwd: root, encoding: 'utf8' }),
  );
}

describe('schema evolution (registry: BACKWARD)', () => {
  let registry: SchemaRegistry;
  const run = randomBytes(4).toString('hex');
  before(async () => {
    registry = await connectRegistry(registryUrl());
  });

  for (const { name, path } of schemaFiles()) {
    it(`${name}.avsc is BACKWARD compatible with its previous registered versions`, async () => {
      const subject = `compat-${run}-${name}-value`;
      await registry.setCompatibility(subject, 'BACKWARD');
      for (const version of committedVersions(path)) await registry.register(subject, JSON.parse(version));
      const current = JSON.parse(readFileSync(path, 'utf8')) as object;
      assert.equal(await registry.isCompatible(subject, current), true);
      await registry.register(subject, current);
      assert.ok((await registry.versions(subject)).length >= 1);
    });
  }

  it('the registry refuses a breaking change (a new field without a default)', async () => {
    const subject = `compat-${run}-control-value`;
    await registry.setCompatibility(subject, 'BACKWARD');
    const v1 = { type: 'record', name: 'R', namespace: 'streamscout', fields: [{ name: 'a', type: 'long' }] };
    const breaking = { ...v1, fields: [...v1.fields, { name: 'b', type: 'string' }] };
    const fine = { ...v1, fields: [...v1.fields, { name: 'b', type: ['null', 'string'], default: null }] };
    await registry.register(subject, v1);
    assert.equal(await registry.isCompatible(subject, breaking), false);
    await assert.rejects(registry.register(subject, breaking), /schema registry at .*(409|incompatible)/i);
    assert.equal(await registry.isCompatible(subject, fine), true);
  });
});
