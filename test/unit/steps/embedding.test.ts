/** The programmatic API as its TSDoc example uses it: load a pipeline, run a tap, with a step of our own. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defineStep,
  FileStateStore,
  FolderStage,
  loadPipeline,
  openDestination,
  parsePipeline,
  runTap,
} from '../../../lib/index.ts';
import { temporaryFolder } from '../../helpers/chunks.ts';

describe('embedding Tributary', () => {
  it('loadPipeline + runTap run a tap with its steps; a module step has its options checked when the pipeline loads', async () => {
    const folder = temporaryFolder();
    const step = join(folder, 'tag.ts');
    writeFileSync(
      step,
      "export default { name: 'tag', kind: 'transformer', description: '', options: { type: 'object', required: ['label'], properties: { label: { type: 'string' } } }, create: ({ label }) => ({ record: (_s, r) => ({ ...r, label }) }) };\n",
    );
    expect(
      defineStep({
        name: 'x',
        kind: 'inspector',
        description: '',
        options: {},
        create: () => ({ record: (_s, r) => r }),
      }).kind,
    ).toBe('inspector');
    const pipeline = parsePipeline(
      `destination: { type: duckdb, path: ${join(folder, 'w.duckdb')} }\nstage: { path: ${join(folder, 'stage')} }\nstate: { path: ${join(folder, 'state')} }\ntaps:\n  sample:\n    streamer: sample\n    config: { customers: 5, orders: 0 }\n    transforms: [{ use: ./tag.ts, label: embedded }]\n`,
      join(folder, 'pipeline.yaml'),
    );
    const destination = await openDestination(pipeline.destination);
    try {
      const tap = pipeline.taps.get('sample');
      if (tap === undefined) throw new Error('no tap');
      const report = await runTap(tap, {
        stage: new FolderStage(pipeline.stagePath),
        stateStore: new FileStateStore(pipeline.statePath),
        destination,
      });
      expect(report.status, report.error).toBe('succeeded');
      expect(report.steps?.[0]).toMatchObject({ in: 5, out: 5, changed: 5 });
    } finally {
      await destination.close();
    }
    writeFileSync(
      join(folder, 'pipeline.yaml'),
      `taps:\n  sample:\n    streamer: sample\n    transforms: [{ use: ./tag.ts }]\ndestination: { type: duckdb, path: w.duckdb }\n`,
    );
    await expect(loadPipeline(join(folder, 'pipeline.yaml'))).rejects.toThrow(
      /pipeline\.yaml: taps\.sample\.transforms\[0\] \(tag\): label is required\./,
    );
  });
});
