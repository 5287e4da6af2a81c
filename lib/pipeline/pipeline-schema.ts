/** The JSON Schema a pipeline file must match (checked with ajv after `${...}` substitution). */

export const TAP_NAME_PATTERN = '^[a-z][a-z0-9_-]{0,62}$';
export const SCHEDULE_PATTERN =
  '^(rate\\(\\s*[1-9][0-9]*\\s+(minute|minutes|hour|hours|day|days)\\s*\\)|cron\\(\\s*\\S+(\\s+\\S+){5}\\s*\\))$';

export const pipelineSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['destination'],
  properties: {
    destination: {
      type: 'object',
      required: ['type'],
      properties: { type: { enum: ['duckdb', 'postgres', 'singer', 'stitch'] } },
      allOf: [
        {
          if: { properties: { type: { const: 'duckdb' } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
          then: {
            required: ['path'],
            additionalProperties: false,
            properties: {
              type: {},
              path: { type: 'string', minLength: 1 },
              memory_limit: { type: 'string' },
              undeclared_properties: { enum: ['keep', 'drop'] },
            },
          },
        },
        {
          if: { properties: { type: { const: 'postgres' } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
          then: {
            required: ['url'],
            additionalProperties: false,
            properties: {
              type: {},
              url: { type: 'string', minLength: 1 },
              soft_delete: { type: 'boolean' },
              undeclared_properties: { enum: ['keep', 'drop'] },
            },
          },
        },
        {
          if: { properties: { type: { const: 'singer' } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
          then: {
            additionalProperties: false,
            oneOf: [{ required: ['command'] }, { required: ['executable'] }],
            properties: {
              type: {},
              command: { type: 'string', minLength: 1 },
              executable: { type: 'string', minLength: 1 },
              args: { type: 'array', items: { type: 'string' } },
              config: { type: 'object' },
              ledger_path: { type: 'string', minLength: 1 },
            },
          },
        },
        {
          if: { properties: { type: { const: 'stitch' } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
          then: {
            additionalProperties: false,
            required: ['token', 'client_id'],
            properties: {
              type: {},
              token: { type: 'string', minLength: 1 },
              client_id: { type: ['string', 'integer'] },
              region: { enum: ['us-east-1', 'eu-central-1'] },
              base_url: { type: 'string', pattern: '^https?://' },
              ledger_path: { type: 'string', minLength: 1 },
            },
          },
        },
      ],
    },
    stage: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: { type: 'string', minLength: 1 },
        // How long a loaded chunk is kept (for replays), e.g. 3d; a chunk not loaded is never pruned.
        keep: { type: 'string', pattern: '^\\d+\\s*[smhd]$' },
      },
    },
    alerts: {
      type: 'object',
      additionalProperties: false,
      properties: {
        emails: { type: 'array', items: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' } },
        topic_arn: { type: 'string', pattern: '^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_.-]+$' },
        no_success_after: { type: 'integer', minimum: 2, maximum: 100 },
      },
    },
    state: {
      type: 'object',
      additionalProperties: false,
      properties: { path: { type: 'string', minLength: 1 } },
    },
    // Push: an endpoint speaking the Initial State Events API, staging into one ingest tap.
    ingest: {
      type: 'object',
      additionalProperties: false,
      properties: {
        tap: { type: 'string', pattern: TAP_NAME_PATTERN },
        keys: { type: 'array', items: { type: 'string', minLength: 16 } },
        requests_per_10s: { type: 'integer', minimum: 1, maximum: 100000 },
        schedule: { type: 'string', pattern: SCHEDULE_PATTERN },
      },
    },
    // Steps declared once, named by any tap's transforms.
    components: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['use'],
        properties: { use: { type: 'string', minLength: 1 } },
      },
    },
    taps: {
      type: 'object',
      propertyNames: { pattern: TAP_NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['streamer'],
        properties: {
          // A built-in streamer's name, or { command | executable, args, config, catalog } for a Singer tap;
          // the object's shape is checked in load-pipeline.ts, where the errors can say what is wrong.
          streamer: { type: ['string', 'object'], minLength: 1 },
          schedule: { type: 'string', pattern: SCHEDULE_PATTERN },
          timezone: { type: 'string', pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$' },
          config: { type: 'object' },
          streams: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          // Each a component's name or { use: <step>, streams?: [glob…], …options }; options are checked
          // against the step's own schema in steps/step-config.ts.
          transforms: { type: 'array', items: { type: ['string', 'object'] } },
          chunk: {
            type: 'object',
            additionalProperties: false,
            properties: {
              max_records: { type: 'integer', minimum: 1 },
              max_bytes: { type: 'integer', minimum: 1024 },
            },
          },
        },
      },
    },
  },
} as const;

/** What a person should read when a field is wrong. */
export const ALLOWED_HINTS: Readonly<Record<string, string>> = {
  schedule: 'rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>), e.g. rate(1 hour)',
  type: 'duckdb, postgres, singer or stitch',
  emails: 'e-mail addresses, e.g. [data-oncall@example.com]',
  topic_arn: 'an SNS topic ARN, e.g. arn:aws:sns:eu-west-1:123456789012:oncall',
  taps: 'a map of tap names (lower-case letters, digits, - and _, starting with a letter) to taps',
};
