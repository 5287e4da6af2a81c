/**
 * Exactly-once under every schedule, checked the way Jepsen checks databases: fast-check generates
 * random schedules of scheduled events, continuations delivered once, twice or late, Lambda retries,
 * persister batches, duplicate SQS deliveries, replays, redrives, source growth, clock jumps past
 * lease expiry, and faults in any port (the k-th call of the stage, state store, queue, destination or
 * self-invoker fails). After every step the safety properties must hold; after the faults stop and
 * time passes, liveness must too. A failing case prints its seed and the shrunk schedule; shrunk
 * schedules become named regression tests (regressions.test.ts).
 *
 * Cases: TRIB_PROPERTY_RUNS (default 10,000, as in CI).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FolderStage } from '../../lib/stage/folder-stage.ts';
import { FileStateStore } from '../../lib/state/file-state-store.ts';
import { readStepConfigs } from '../../lib/steps/step-config.ts';
import { temporaryFolder } from '../helpers/chunks.ts';
import { check, step } from './check.ts';
import { World } from './world.ts';

const RUNS = Number(process.env.TRIB_PROPERTY_RUNS ?? 10_000);

describe('exactly-once under random schedules', () => {
  it(`holds for ${RUNS} schedules over the in-memory ports`, async () => {
    // What the schedules reached, so a generator that never gets a chunk dead-lettered cannot pass unnoticed.
    let deadLettersCleared = 0;
    let failedLoads = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const world = new World();
        const problem = await check(steps, world);
        expect(problem).toBeUndefined();
        for (const line of world.log) {
          deadLettersCleared += Number(/cleared (\d+) dead letter/.exec(line)?.[1] ?? 0);
          failedLoads += Number(/persist \d+: (\d+) failed/.exec(line)?.[1] ?? 0);
        }
      }),
      { numRuns: RUNS, verbose: 1 },
    );
    expect(deadLettersCleared).toBeGreaterThan(0);
    expect(failedLoads).toBeGreaterThan(RUNS / 10);
  }, 1_200_000);

  it(`holds for ${Math.max(100, Math.floor(RUNS / 20))} schedules with steps between the streamer and the chunks`, async () => {
    // A transformer that changes every record, one that keeps them all, and an inspector.
    const steps = readStepConfigs(
      'property.yaml',
      'changes',
      [
        { use: 'add_fields', fields: { via: 'steps' } },
        { use: 'filter', where: 'id >= 0' },
        { use: 'validate', on_invalid: 'fail' },
      ],
      {},
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (schedule) => {
        const problem = await check(schedule, new World({ steps }));
        expect(problem).toBeUndefined();
      }),
      { numRuns: Math.max(100, Math.floor(RUNS / 20)), verbose: 1 },
    );
  }, 1_200_000);

  it(`holds for ${Math.max(50, Math.floor(RUNS / 50))} schedules over the folder stage and the file state store`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const folder = temporaryFolder('tributary-property-');
        const world = new World({
          stage: new FolderStage(folder),
          stateStore: (clock) => new FileStateStore(`${folder}/state`, clock),
        });
        const problem = await check(steps, world);
        expect(problem).toBeUndefined();
      }),
      { numRuns: Math.max(50, Math.floor(RUNS / 50)), verbose: 1 },
    );
  }, 1_200_000);
});
