/**
 * The AWS cost of loading records, from measured figures only: the requests the real handlers make
 * per chunk and per run, counted on the emulators (test/integration/aws-requests.test.ts), and their
 * durations on this machine, scaled to Lambda arm64 at 1 GB. Prices are us-east-1 list prices.
 */

export interface MeasuredRequests {
  readonly chunkRecords: number;
  /** `side Client:Command` → calls per chunk, and per run (what is left at zero chunks). */
  readonly perChunk: Record<string, number>;
  readonly perRun: Record<string, number>;
  readonly sqsEventSource: { readonly batchesPerChunk: number };
  readonly durations: { readonly streamerMsPerChunk: number; readonly persisterMsPerChunk: number };
}

/** us-east-1 list prices, USD, as of PRICES_DATE; check https://aws.amazon.com/pricing before relying on them. */
export const PRICES_DATE = '2026-12';
export const PRICES = {
  lambdaGbSecond: 0.0000133334, // arm64
  lambdaRequest: 0.2 / 1e6,
  s3Put: 0.005 / 1000, // PUT, COPY, POST, LIST (tagging too)
  s3Get: 0.0004 / 1000, // GET, HEAD; DELETE is free
  sqsFifoRequest: 0.5 / 1e6,
  dynamoWrite: 0.625 / 1e6, // on-demand, per write request unit (items under 1 KB)
  dynamoRead: 0.125 / 1e6, // on-demand, per read request unit (strongly consistent, under 4 KB)
  schedulerInvocation: 1 / 1e6,
  secretsManagerCall: 0.05 / 10_000,
} as const;

/**
 * Lambda gives a full vCPU at 1,769 MB, so 1 GB has 1024/1769 of one; the handlers are one thread,
 * CPU-bound on this machine's core, and are taken to run that much slower there (Graviton's core
 * assumed as fast as this one).
 */
export const LAMBDA_1GB_SLOWDOWN = 1769 / 1024;

function priceOf(call: string): number {
  const [, operation = ''] = call.split(' ')[1]?.split(':') ?? [];
  const service = call.split(' ')[1]?.split(':')[0] ?? '';
  if (service === 'S3') {
    if (/^(Get|Head)/.test(operation)) return PRICES.s3Get;
    if (/^Delete/.test(operation)) return 0;
    return PRICES.s3Put;
  }
  if (service === 'SQS') return PRICES.sqsFifoRequest;
  if (service === 'DynamoDB')
    return /^(Get|Query|Scan|BatchGet)/.test(operation) ? PRICES.dynamoRead : PRICES.dynamoWrite;
  if (service === 'SecretsManager') return PRICES.secretsManagerCall;
  if (service === 'Lambda') return PRICES.lambdaRequest; // a continuation is one more invocation
  if (service === 'CloudWatch') return 0; // metrics go out in log lines (EMF), not API calls
  return 0;
}

export interface CostLine {
  readonly item: string;
  readonly perChunk: number;
  readonly perRun: number;
}

export function costLines(measured: MeasuredRequests): CostLine[] {
  const lines: CostLine[] = [];
  const lambdaSeconds = (ms: number) => (ms / 1000) * LAMBDA_1GB_SLOWDOWN;
  lines.push({
    item: `Lambda streamer, ${Math.round(measured.durations.streamerMsPerChunk * LAMBDA_1GB_SLOWDOWN)} ms a chunk at 1 GB, one invocation a run`,
    perChunk: lambdaSeconds(measured.durations.streamerMsPerChunk) * PRICES.lambdaGbSecond,
    perRun: PRICES.lambdaRequest,
  });
  lines.push({
    item: `Lambda persister, ${Math.round(measured.durations.persisterMsPerChunk * LAMBDA_1GB_SLOWDOWN)} ms a chunk at 1 GB, ${measured.sqsEventSource.batchesPerChunk.toFixed(2)} invocations a chunk`,
    perChunk:
      lambdaSeconds(measured.durations.persisterMsPerChunk) * PRICES.lambdaGbSecond +
      measured.sqsEventSource.batchesPerChunk * PRICES.lambdaRequest,
    perRun: 0,
  });
  const byService = new Map<string, CostLine>();
  for (const [call, count] of Object.entries(measured.perChunk)) add(call, count, 0);
  for (const [call, count] of Object.entries(measured.perRun)) add(call, 0, count);
  function add(call: string, perChunk: number, perRun: number) {
    const service = call.split(' ')[1]?.split(':')[0] ?? '?';
    const known = byService.get(service) ?? { item: `${service} requests`, perChunk: 0, perRun: 0 };
    byService.set(service, {
      item: known.item,
      perChunk: known.perChunk + perChunk * priceOf(call),
      perRun: known.perRun + perRun * priceOf(call),
    });
  }
  // Lambda's SQS event source receives and deletes a batch: two requests a batch.
  const sqs = byService.get('SQS') ?? { item: 'SQS requests', perChunk: 0, perRun: 0 };
  byService.set('SQS', {
    item: 'SQS requests (sends, and the event source receiving and deleting each batch)',
    perChunk: sqs.perChunk + 2 * measured.sqsEventSource.batchesPerChunk * PRICES.sqsFifoRequest,
    perRun: sqs.perRun,
  });
  lines.push(...byService.values());
  lines.push({
    item: 'EventBridge Scheduler, one invocation a run',
    perChunk: 0,
    perRun: PRICES.schedulerInvocation,
  });
  return lines;
}

const usd = (value: number) => (value >= 0.01 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`);

/** The README's cost table: per million records, and a tap moving 1M records a month hourly. */
export function costTable(measured: MeasuredRequests): string {
  const chunksPerMillion = 1e6 / measured.chunkRecords;
  const hourlyRuns = 730;
  const lines = costLines(measured);
  const rows = lines.map((line) => {
    const million = line.perChunk * chunksPerMillion;
    const month = million + line.perRun * hourlyRuns;
    return `| ${line.item} | ${usd(million)} | ${usd(month)} |`;
  });
  const totalMillion = lines.reduce((sum, line) => sum + line.perChunk * chunksPerMillion, 0);
  const totalMonth = lines.reduce(
    (sum, line) => sum + line.perChunk * chunksPerMillion + line.perRun * hourlyRuns,
    0,
  );
  return [
    `| item | per million records loaded (${chunksPerMillion} chunks) | a tap moving 1M records a month, hourly (730 runs) |`,
    '| --- | ---: | ---: |',
    ...rows,
    `| **total** | **${usd(totalMillion)}** | **${usd(totalMonth)}** |`,
  ].join('\n');
}
