import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { openDestination } from '../../destinations/open-destination.ts';
import { plural } from '../../pipeline/describe-bookmark.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import { planRewind, type RewindPlan, rewindTap } from '../../pipeline/rewind.ts';
import { tapPorts } from '../tap-ports.ts';

interface RewindOptions {
  pipeline: string;
  aws?: boolean;
  bucket?: string;
  table?: string;
  yes?: boolean;
  dryRun?: boolean;
}

/** `trib rewind TAP` and `trib reset TAP`: one command shape, two depths. */
export function rewindCommand(kind: 'rewind' | 'reset'): Command {
  const forget = kind === 'reset';
  return new Command(kind)
    .description(
      forget
        ? "Forget a tap's bookmark: the next run reads everything again (a full resync). Keyed streams are upserted; unkeyed streams get their records again."
        : "Drop a tap's chunks staged after its committed bookmark (a damaged or lost chunk) and resume the next run from the committed bookmark, so their records are read again.",
    )
    .argument('<tap>', 'the tap')
    .option('--pipeline <file>', 'local: the pipeline whose stage and state to use', 'pipeline.yaml')
    .option('--aws', 'the deployed pipeline (S3 stage, DynamoDB state)')
    .option('--bucket <name>', 'with --aws: the stage bucket (stack output StageBucketName)')
    .option('--table <name>', 'with --aws: the state table (stack output StateTableName)')
    .option('--dry-run', 'say what would be dropped, change nothing')
    .option('--yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      `\nExamples:\n  trib ${kind} github-acme --dry-run\n  trib ${kind} github-acme --yes`,
    )
    .action(async (tap: string, options: RewindOptions) => {
      // Locally the destination is at hand, and its ledger says what is loaded; with --aws it may not
      // be reachable from here (and its secrets are the functions'), so the state's word is taken.
      const destination =
        options.aws === true
          ? undefined
          : await openDestination((await loadPipeline(options.pipeline)).destination);
      try {
        const ports = {
          ...(await tapPorts(options, tap)),
          ...(destination === undefined ? {} : { destination }),
        };
        const plan = await planRewind(tap, ports, forget);
        process.stdout.write(describePlan(kind, plan));
        if (options.dryRun === true) {
          process.stdout.write('Dry run: nothing changed.\n');
          return;
        }
        if (options.yes !== true && !(await confirmed(tap))) {
          process.exitCode = 1;
          return;
        }
        const done = await rewindTap(tap, ports, forget);
        process.stdout.write(
          `tap ${tap}: ${kind === 'reset' ? 'reset' : 'rewound'}. The next run starts from ${done.from}.\n`,
        );
      } finally {
        await destination?.close();
      }
    });
}

function describePlan(kind: 'rewind' | 'reset', plan: RewindPlan): string {
  const lines = [`tap ${plan.tap}: ${kind} — the next run starts from ${plan.from}.`];
  if (plan.loadedAfterCommitted !== undefined)
    lines.push(
      `Chunk ${plan.loadedAfterCommitted} is in the destination's ledger though its bookmark was never recorded as committed (a crash after the load): the committed bookmark moves up to it, and it is not dropped.`,
    );
  if (!plan.ledgerChecked)
    lines.push(
      "The destination's ledger is not asked from here: a chunk loaded whose bookmark is not yet recorded would be dropped and read again. Let the chunk queue drain first (trib status --aws shows it).",
    );
  if (plan.dropped.length === 0) lines.push('No staged chunks are waiting; none is dropped.');
  else {
    lines.push(
      `Dropped (never loaded; their records are read again from the source): ${plural(plan.dropped.length, 'chunk')}`,
    );
    for (const key of plan.dropped.slice(0, 20)) lines.push(`  ${key}`);
    if (plan.dropped.length > 20) lines.push(`  … and ${plan.dropped.length - 20} more`);
  }
  if (plan.forgetsBookmark)
    lines.push(
      'Every stream is read again from its start date; unkeyed streams get their records a second time.',
    );
  return `${lines.join('\n')}\n`;
}

async function confirmed(tap: string): Promise<boolean> {
  if (!process.stdin.isTTY) {
    process.stderr.write('Not confirmed: add --yes to go ahead (or --dry-run to only look).\n');
    return false;
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`Type the tap name (${tap}) to go ahead: `);
    if (answer.trim() === tap) return true;
    process.stderr.write('Not confirmed; nothing changed.\n');
    return false;
  } finally {
    prompt.close();
  }
}
