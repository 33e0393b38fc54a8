import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from '@jest/globals';
import { CONFIG_SCHEMAS, jsonSchemaText } from '../stacks/lib/schemas.js';
import { SOURCE_ROOT } from './support/synth.js';

describe('generated JSON Schemas', () => {
  for (const entry of CONFIG_SCHEMAS) {
    it(`${entry.path} is current (run \`npm run schemas\` after changing the zod schema)`, () => {
      assert.equal(readFileSync(join(SOURCE_ROOT, entry.path), 'utf8'), jsonSchemaText(entry));
    });
  }
  it('rejects unknown fields in editors too', () => {
    const schema = JSON.parse(readFileSync(join(SOURCE_ROOT, 'environments/environment.schema.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(schema.additionalProperties, false);
  });
});
