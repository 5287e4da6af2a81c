/**
 * The schedules the property test generates, and the check every schedule must pass: safety after
 * every step, liveness after the faults stop. Shared by exactly-once.test.ts and regressions.test.ts.
 */
import fc from 'fast-check';
import { type Fault, finalProblems, type Step, safetyProblems, World } from './world.ts';

const budget = fc.integer({ min: 1, max: 60 });
const fault: fc.Arbitrary<Fault> = fc.oneof(
  fc
    .constantFrom<StateMethod>(
      'beginRun',
      'continueRun',
      'markStaged',
      'markCommitted',
      'releaseLease',
      'recordLastRun',
      'read',
    )
    .map((method) => ({ port: 'state' as const, method })),
  fc.constant({ port: 'stage-put' as const }),
  fc.constant({ port: 'queue-send' as const }),
  fc.constant({ port: 'invoke' as const }),
  fc
    .constantFrom('mid-load', 'before-commit', 'after-commit')
    .map((at) => ({ port: 'destination' as const, at })),
  fc
    .integer({ min: 3, max: 12 })
    .map((transactions) => ({ port: 'destination-outage' as const, transactions })),
);
type StateMethod =
  | 'beginRun'
  | 'continueRun'
  | 'markStaged'
  | 'markCommitted'
  | 'releaseLease'
  | 'recordLastRun'
  | 'read';

export const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: budget.map((budgetMs) => ({ kind: 'schedule' as const, budgetMs })) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('continue' as const),
      pick: fc.nat(5),
      budgetMs: budget,
      duplicate: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('retry' as const), pick: fc.nat(5), budgetMs: budget }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('persist' as const), batch: fc.integer({ min: 1, max: 10 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('redeliver' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('grow' as const),
      inserts: fc.nat(6),
      updates: fc.nat(4),
      events: fc.nat(6),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(1_000, 6 * 60_000, 21 * 60_000),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('fault' as const), fault, nth: fc.integer({ min: 1, max: 4 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'redrive' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'rewind' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('concurrent' as const),
      pick: fc.nat(5),
      budgetMs: budget,
      withSchedule: fc.boolean(),
    }),
  },
);

/** Runs a schedule; returns the first problem, or undefined when every property held. */
export async function check(steps: readonly Step[], world = new World()): Promise<string | undefined> {
  world.grow(5, 0, 5);
  const seen = {};
  for (const [index, current] of steps.entries()) {
    await world.step(current);
    const problems = await safetyProblems(world, seen);
    if (problems.length > 0)
      return `after step ${index} (${JSON.stringify(current)}): ${problems.join('; ')}\n${world.log.join('\n')}`;
  }
  await world.settle();
  const problems = [...(await safetyProblems(world, seen)), ...(await finalProblems(world))];
  return problems.length === 0
    ? undefined
    : `after settling: ${problems.join('; ')}\n${world.log.slice(-40).join('\n')}`;
}
