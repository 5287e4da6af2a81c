import { createHash, createHmac } from 'node:crypto';
import { stringifyExact } from '../../protocol/exact-json.ts';
import { replacingValues, splitPath } from '../field-paths.ts';
import { defineStep, StepConfigError } from '../step.ts';

/**
 * `hash { fields, key }`: lowercase hex HMAC-SHA-256 of each value's UTF-8 text (a string as it is,
 * anything else as JSON), keyed, so the same value hashes alike in every table and joins still work,
 * but a dictionary of likely values cannot reverse it. `algorithm: sha256` hashes without a key, only
 * when asked for. Nulls stay null.
 */
export const hashStep = defineStep<{ fields: string[]; key?: string; algorithm?: 'hmac-sha256' | 'sha256' }>({
  name: 'hash',
  kind: 'transformer',
  description: 'Replaces values by their HMAC-SHA-256 (hex) under a key, so they join but cannot be read.',
  options: {
    type: 'object',
    additionalProperties: false,
    required: ['fields'],
    properties: {
      fields: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
      key: { type: 'string', minLength: 16, description: 'the HMAC key, from ${secret:…} or ${env:…}' },
      algorithm: { enum: ['hmac-sha256', 'sha256'], default: 'hmac-sha256' },
    },
  },
  check: ({ key, algorithm = 'hmac-sha256' }) =>
    algorithm === 'hmac-sha256' && key === undefined
      ? 'give key (at least 16 characters, e.g. key: "${secret:tributary/hash-key}"), or algorithm: sha256 for an unkeyed hash, which a dictionary of likely values can reverse'
      : undefined,
  create: ({ fields, key, algorithm = 'hmac-sha256' }) => {
    if (algorithm === 'hmac-sha256' && key === undefined)
      throw new StepConfigError('hash: give key, or algorithm: sha256');
    const digest = (text: string) =>
      algorithm === 'sha256' || key === undefined
        ? createHash('sha256').update(text, 'utf8').digest('hex')
        : createHmac('sha256', key).update(text, 'utf8').digest('hex');
    return replacingValues(fields.map(splitPath), (value) =>
      digest(typeof value === 'string' ? value : stringifyExact(value)),
    );
  },
});
