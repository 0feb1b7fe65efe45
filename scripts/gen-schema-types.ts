#!/usr/bin/env -S node --import tsx
// Writes schemas/avro-types.ts from schemas/avro/*.avsc (see schemas/codegen.ts).
import { writeFileSync } from 'node:fs';
import { generateTypes } from '../schemas/codegen.ts';

const target = new URL('../schemas/avro-types.ts', import.meta.url);
writeFileSync(target, generateTypes());
console.log(`wrote ${target.pathname}`);
