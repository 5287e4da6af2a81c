import { describe, expect, it } from 'vitest';
import { describeBody } from '../../../lib/streamer/http-client.ts';

describe('describeBody', () => {
  it("shows an API's message, with the error code and parameter where it names them", () => {
    expect(
      describeBody({
        message: 'limit : The value 250 is invalid. Cannot be more than 100.',
        api_error_code: 'param_wrong_value',
        param: 'limit',
      }),
    ).toBe('limit : The value 250 is invalid. Cannot be more than 100. (param_wrong_value, param limit)');
    expect(describeBody({ error: { message: 'Authentication failed', code: 2006 } })).toBe(
      'Authentication failed',
    );
    expect(describeBody('')).toBe('(empty body)');
  });
});
