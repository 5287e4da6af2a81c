import { describe, expect, it } from 'vitest';
import { NdjsonBatch } from '../../../lib/destinations/duckdb/ndjson-batch.ts';
import { temporaryFolder } from '../../helpers/chunks.ts';

describe("a DuckDB load error in the chunk's terms", () => {
  it('names the record by its place in the chunk, not the temporary file, and drops advice about reader options', async () => {
    const batch = new NdjsonBatch(`${temporaryFolder()}/batch-0`, [
      { property: 'id', column: 'id', type: { kind: 'integer' } },
    ]);
    await batch.write({ values: { id: 1 }, position: 7, raw: { text: '{"type":"RECORD"}' } });
    await batch.write({ values: { id: 2 }, position: 9, raw: { text: '{"type":"RECORD"}' } });
    await batch.close();
    const described = batch.describeError(
      `Invalid Input Error: JSON transform error in file "${batch.files.fast}", in line 2: Failed to cast value\nTry setting 'auto_detect' to true\n If this error occurred during read_json, line/object number information is approximate`,
    );
    expect(described).toBe(
      'record 9 of the chunk: Invalid Input Error: JSON transform error: Failed to cast value',
    );
    await batch.remove();
  });

  it('a batch file that cannot be written fails the load through its promise, not as an uncaught error', async () => {
    const batch = new NdjsonBatch(
      `${temporaryFolder()}/missing/batch-0`,
      [{ property: 'id', column: 'id', type: { kind: 'integer' } }],
      [{ property: 'id', column: 'id', type: { kind: 'integer' } }],
    );
    batch.write({ values: { id: 1 }, position: 1, raw: { text: '{"type":"RECORD"}' } });
    // The stream's open fails in the background; the next write or the close reports it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const written = batch.write({ values: { id: 2 }, position: 2, raw: { text: '{"type":"RECORD"}' } });
    await expect(written).rejects.toThrow(/ENOENT/);
    await expect(batch.close()).rejects.toThrow(/ENOENT/);
    await batch.remove();
  });
});
