import { describe, expect, it } from 'vitest';
import { PipelineConfigError, parsePipeline } from '../../../lib/pipeline/load-pipeline.ts';

const parse = (text: string, env: Record<string, string> = {}) =>
  parsePipeline(text, 'pipeline.yaml', { env });
const valid = `
destination: { type: duckdb, path: w.duckdb }
taps:
  sample-one:
    streamer: sample
    schedule: rate(1 hour)
    config: { customers: 10, seed: "\${env:SEED}" }
    streams: [customers]
`;

describe('parsePipeline', () => {
  it('refuses two taps whose tables would share a schema (acme-gh and acme_gh), naming both', () => {
    const text = `destination: { type: duckdb, path: w.duckdb }
taps:
  acme-gh: { streamer: sample }
  acme_gh: { streamer: sample }
`;
    expect(() => parse(text)).toThrow(PipelineConfigError);
    expect(() => parse(text)).toThrow(
      /pipeline\.yaml: taps\.acme_gh: its tables would go in schema "acme_gh", as those of tap acme-gh do/,
    );
  });

  it('reads taps, substitutes ${env:NAME}, and resolves local paths', () => {
    const pipeline = parse(valid, { SEED: '7' });
    const tap = pipeline.taps.get('sample-one');
    expect(tap).toMatchObject({
      name: 'sample-one',
      streamer: 'sample',
      config: { customers: 10, seed: 7 }, // ${env:SEED} is "7"; the config schema says integer
      streams: ['customers'],
      steps: [],
    });
    expect(pipeline.destination).toMatchObject({ type: 'duckdb' });
    expect(pipeline.stagePath).toMatch(/\.tributary$/);
  });

  const errors: [string, string, Record<string, string>?][] = [
    [
      valid.replace('rate(1 hour)', 'every hour'),
      'pipeline.yaml: taps.sample-one.schedule: received "every hour".\n  Allowed: rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>), e.g. rate(1 hour).',
      { SEED: '1' },
    ],
    [
      valid,
      'pipeline.yaml: taps.sample-one.config.seed: ${env:SEED} is not set. Set the environment variable SEED',
    ],
    [
      valid.replace('streamer: sample', 'streamer: nope'),
      'pipeline.yaml: taps.sample-one.streamer: received "nope".\n  Allowed: chargebee, drift, github, ingest, pagerduty, sample, or { command: <a Singer tap> }.',
      { SEED: '1' },
    ],
    [
      valid.replace('[customers]', '[invoices]'),
      'taps.sample-one.streams: received "invoices", which streamer sample does not have.\n  Allowed: customers, orders.',
      { SEED: '1' },
    ],
    [
      valid.replace('type: duckdb', 'type: oracle'),
      'pipeline.yaml: destination.type: received "oracle".\n  Allowed: duckdb, postgres, singer or stitch.',
      { SEED: '1' },
    ],
    [
      valid.replace('path: w.duckdb', 'file: w.duckdb'),
      'pipeline.yaml: destination.path: received nothing.\n  Allowed: a value (it is required).',
      { SEED: '1' },
    ],
    [
      valid.replace('sample-one:', 'Sample One:'),
      'pipeline.yaml: taps: received "Sample One".',
      { SEED: '1' },
    ],
    [
      valid.replace('    streams:', '    stream:'),
      'pipeline.yaml: taps.sample-one.stream: received "stream".\n  Allowed: no such key here; known keys: streamer, schedule, timezone, config, streams, transforms, chunk.',
      { SEED: '1' },
    ],
    [
      valid.replace('streamer: sample', 'streamer: { command: tap-foo, executable: tap-foo }'),
      'pipeline.yaml: taps.sample-one.streamer: give a Singer tap as command: "tap-foo --its-flags" or as executable: tap-foo with args: [...], one of the two.',
      { SEED: '1' },
    ],
    [
      valid.replace('streamer: sample', 'streamer: { command: tap-foo, catalogue: c.json }'),
      'pipeline.yaml: taps.sample-one.streamer: unknown key catalogue; known keys: command, executable, args, config, catalog, catalog_flag.',
      { SEED: '1' },
    ],
    [
      valid.replace('streamer: sample', 'streamer: { command: tap-foo, config: { a: 1 } }'),
      'pipeline.yaml: taps.sample-one.streamer: config is given twice, in taps.sample-one.streamer and in taps.sample-one; keep one.',
      { SEED: '1' },
    ],
    ['taps: [', 'pipeline.yaml: not valid YAML'],
    [
      'destination: { type: duckdb, path: w.duckdb }\ntaps:\n  a: { streamer: sample }\n  a: { streamer: sample }\n',
      'pipeline.yaml:4: the key "a" is given twice in one map.\n  Allowed: each key once; remove or rename one of them.',
    ],
    [
      valid.replace(
        '    streams: [customers]',
        '    streams: [customers]\n    transforms: [{ use: hash, fields: [email] }]',
      ),
      'pipeline.yaml: taps.sample-one.transforms[0] (hash): give key (at least 16 characters',
      { SEED: '1' },
    ],
  ];
  it.each(errors)('explains a bad file (%#)', (text, message, env) => {
    expect(() => parse(text, env)).toThrow(PipelineConfigError);
    expect(() => parse(text, env)).toThrow(message);
  });

  it('checks each tap at load, the same for every command: config (with did-you-mean), schedule and timezone', () => {
    const github = (config: string, extra = '') => `
destination: { type: duckdb, path: w.duckdb }
taps:
  gh:
    streamer: github
    schedule: rate(1 hour)${extra}
    config: ${config}
`;
    expect(() => parse(github('{ acess_token: x, repositories: [a/b] }'))).toThrow(
      /pipeline\.yaml: taps\.gh\.config: access_token: received nothing; must have required property 'access_token' \(the config has acess_token: did you mean access_token\?\)/,
    );
    expect(() =>
      parse('destination: { type: duckdb, path: w.duckdb }\ntaps:\n  - name: gh\n    streamer: sample\n'),
    ).toThrow(/taps: received \[.*\]\.\n {2}Allowed: a map of tap name to its settings, not a list/);
    // One of two keys is required (anyOf): one line names the choice, not Ajv's "(root): must match a schema in anyOf".
    let refused = '';
    try {
      parse(github('{ access_token: x }'));
    } catch (error) {
      refused = (error as Error).message;
    }
    expect(refused).toBe(
      'pipeline.yaml: taps.gh.config: repositories / repository: received none of them; give one of repositories or repository',
    );
    expect(() => parse(github('{ access_token: x, repositorie: [a/b] }'))).toThrow(
      /give one of repositories or repository \(the config has repositorie: did you mean repositories\?\)/,
    );
    const warned = parse(github('{ access_token: x, repositories: [a/b], lookbak: 1h }'));
    expect(warned.warnings).toEqual([
      expect.stringMatching(
        /^pipeline\.yaml: taps\.gh\.config\.lookbak is not a key of streamer github: did you mean lookback\? It is ignored\./,
      ),
    ]);
    expect(() =>
      parse(github('{ access_token: x, repositories: [a/b] }').replace('rate(1 hour)', 'cron(99 * * * ? *)')),
    ).toThrow(/pipeline\.yaml: taps\.gh\.schedule: cron\(99 \* \* \* \? \*\): /);
    expect(() =>
      parse(github('{ access_token: x, repositories: [a/b] }', '\n    timezone: Mars/Olympus')),
    ).toThrow(/pipeline\.yaml: taps\.gh\.timezone: timezone "Mars\/Olympus" is not an IANA time zone/);
  });
});

describe('a large pipeline file', () => {
  const withKeys = (count: number) => {
    const lines = [
      'destination: { type: duckdb, path: w.duckdb }',
      'taps:',
      '  s:',
      '    streamer:',
      '      command: tap-x',
      '      config:',
    ];
    for (let key = 0; key < count; key += 1) lines.push(`        key_${key}: ${key}`);
    return `${lines.join('\n')}\n`;
  };
  const fastest = (text: string) => {
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round += 1) {
      const started = performance.now();
      parsePipeline(text, 'pipeline.yaml', { env: {} });
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };

  it('a config with thousands of mistakes shows ten of them and a count', () => {
    const keys = Array.from({ length: 5_000 }, (_, key) => `        key_${key}: ${key}`).join('\n');
    expect(() =>
      parsePipeline(
        `destination: { type: duckdb, path: w.duckdb }\ntaps:\n  s:\n    streamer: sample\n    config:\n${keys}\n`,
        'pipeline.yaml',
        { env: {} },
      ),
    ).toThrow(/key_9: received 9; unknown key[^\n]*\n {2}… and 4990 more$/);
  });

  it('loads in time linear in its size: four times the keys, not sixteen times the time', () => {
    fastest(withKeys(2_000)); // warm up the parser
    const ratio = fastest(withKeys(32_000)) / fastest(withKeys(8_000));
    // Linear is about 4; the yaml package's own duplicate-key check made it about 16.
    expect(ratio).toBeLessThan(8);
  });
});
