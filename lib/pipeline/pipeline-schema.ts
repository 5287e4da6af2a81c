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
      description: 'Where the records are loaded. The keys besides type depend on the type.',
      required: ['type'],
      properties: {
        type: {
          enum: ['duckdb', 'postgres', 'singer', 'stitch'],
          description:
            'duckdb (a local file), postgres, singer (any Singer target) or stitch (the Import API)',
        },
      },
      allOf: [
        {
          if: { properties: { type: { const: 'duckdb' } } },
          // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
          then: {
            required: ['path'],
            additionalProperties: false,
            properties: {
              type: {},
              path: {
                type: 'string',
                minLength: 1,
                description: 'The DuckDB file; relative to the folder trib runs in.',
                examples: ['warehouse.duckdb'],
              },
              memory_limit: {
                type: 'string',
                description:
                  "DuckDB's memory_limit: the buffer pool a load and a query may use (more spills to disk or fails).",
                default: '256MB',
                examples: ['1GB'],
              },
              undeclared_properties: {
                enum: ['keep', 'drop'],
                description:
                  'A record property its stream schema does not declare: keep it (a JSON column of its own) or drop it.',
                default: 'keep',
              },
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
              url: {
                type: 'string',
                minLength: 1,
                description:
                  'postgres://user:password@host:port/database; use ${env:NAME} or ${secret:NAME} for the password.',
                examples: ['${env:PGURL}'],
              },
              soft_delete: {
                type: 'boolean',
                description:
                  'Rows of a replaced FULL_TABLE version get _tributary_deleted_at instead of being deleted.',
                default: false,
              },
              undeclared_properties: {
                enum: ['keep', 'drop'],
                description:
                  'A record property its stream schema does not declare: keep it (a JSON column of its own) or drop it.',
                default: 'keep',
              },
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
              command: {
                type: 'string',
                minLength: 1,
                description: 'The Singer target as a shell command line (this or executable).',
                examples: ['target-jsonl --config target.json'],
              },
              executable: {
                type: 'string',
                minLength: 1,
                description: 'The Singer target program, run without a shell (this or command).',
                examples: ['target-csv'],
              },
              args: { type: 'array', items: { type: 'string' }, description: 'Arguments for executable.' },
              config: {
                type: 'object',
                description: "The target's config, written to a file passed as --config.",
              },
              ledger_path: {
                type: 'string',
                minLength: 1,
                description: 'Where the per-tap delivery ledger is kept, so a replay sends nothing twice.',
                default: '.tributary/delivered',
              },
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
              token: {
                type: 'string',
                minLength: 1,
                description: 'The Import API token.',
                examples: ['${secret:stitch-token}'],
              },
              client_id: {
                type: ['string', 'integer'],
                description: 'The Stitch account (client) id.',
                examples: [12345],
              },
              region: {
                enum: ['us-east-1', 'eu-central-1'],
                description: "The Stitch account's region.",
                default: 'us-east-1',
              },
              base_url: {
                type: 'string',
                pattern: '^https?://',
                description: 'Another Import API base URL (a proxy, a test server); overrides region.',
              },
              ledger_path: {
                type: 'string',
                minLength: 1,
                description: 'Where the per-tap delivery ledger is kept, so a replay sends nothing twice.',
                default: '.tributary/delivered',
              },
            },
          },
        },
      ],
    },
    stage: {
      type: 'object',
      description: 'Locally: the folder chunks are staged in before they load (in AWS, the stack’s bucket).',
      additionalProperties: false,
      properties: {
        path: { type: 'string', minLength: 1, description: 'The stage folder.', default: '.tributary' },
        keep: {
          type: 'string',
          pattern: '^\\d+\\s*[smhd]$',
          description:
            'How long a loaded chunk is kept (for replays); a chunk not yet loaded is never pruned.',
          default: '3d',
          examples: ['7d', '12h'],
        },
      },
    },
    alerts: {
      type: 'object',
      description: 'In AWS: who hears of failures (CloudWatch alarms through SNS).',
      additionalProperties: false,
      properties: {
        emails: {
          type: 'array',
          items: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$' },
          description: 'Addresses subscribed to the alarm topic (each confirms once).',
          examples: [['data-oncall@example.com']],
        },
        topic_arn: {
          type: 'string',
          pattern: '^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_.-]+$',
          description: 'An SNS topic of your own that is notified too.',
          examples: ['arn:aws:sns:eu-west-1:123456789012:oncall'],
        },
        no_success_after: {
          type: 'integer',
          minimum: 2,
          maximum: 100,
          description: 'Alarm when a tap has had no successful run for this many of its schedule periods.',
          default: 3,
        },
      },
    },
    state: {
      type: 'object',
      description: 'Locally: where bookmarks are kept (in AWS, the DynamoDB table).',
      additionalProperties: false,
      properties: {
        path: { type: 'string', minLength: 1, description: 'The state folder.', default: '.tributary/state' },
      },
    },
    ingest: {
      type: 'object',
      description:
        'Push: an endpoint speaking the Initial State Events API (trib ingest serve; a function URL in AWS), loading into one ingest tap.',
      additionalProperties: false,
      properties: {
        tap: {
          type: 'string',
          pattern: TAP_NAME_PATTERN,
          description: 'The ingest tap; added with streamer ingest when no tap has this name.',
          default: 'events',
        },
        keys: {
          type: 'array',
          items: { type: 'string', minLength: 16 },
          description:
            'Access keys accepted besides those of trib ingest keys create; in AWS they must be ${secret:NAME}.',
          examples: [['${secret:ingest-key}']],
        },
        requests_per_10s: {
          type: 'integer',
          minimum: 1,
          maximum: 100000,
          description: 'Requests per access key per 10 seconds; more get 429.',
          default: 300,
        },
        schedule: {
          type: 'string',
          pattern: SCHEDULE_PATTERN,
          description: 'How often the ingest tap loads what was pushed.',
          default: 'rate(5 minutes)',
        },
      },
    },
    components: {
      type: 'object',
      description: "Steps declared once by name, for any tap's transforms to use.",
      additionalProperties: {
        type: 'object',
        description:
          'A step: use names a built-in step (trib steps), a module (relative to the pipeline file) or an npm package; its other keys are the step options.',
        required: ['use'],
        properties: {
          use: {
            type: 'string',
            minLength: 1,
            description: 'The step.',
            examples: ['validate', './steps/tag.mjs'],
          },
        },
      },
    },
    taps: {
      type: 'object',
      description:
        'The taps, by name (lower-case letters, digits, - and _); a tap is one streamer with its config, bookmark and schema in the warehouse.',
      propertyNames: { pattern: TAP_NAME_PATTERN },
      additionalProperties: {
        type: 'object',
        description: 'One tap: its streamer, when it runs, its config and the streams and steps it syncs.',
        additionalProperties: false,
        required: ['streamer'],
        properties: {
          // The object's shape is checked in load-pipeline.ts, where the errors can say what is wrong.
          streamer: {
            type: ['string', 'object'],
            minLength: 1,
            description:
              "A built-in streamer's name (trib streamers), or a Singer tap: { command | executable, args, config, catalog }.",
            examples: ['github', { command: 'tap-exchangeratesapi' }],
          },
          schedule: {
            type: 'string',
            pattern: SCHEDULE_PATTERN,
            description:
              'When the tap runs (trib schedule; EventBridge Scheduler in AWS); required to deploy.',
            examples: ['rate(1 hour)', 'cron(0 9 ? * MON-FRI *)'],
          },
          timezone: {
            type: 'string',
            pattern: '^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$',
            description: "The IANA time zone a cron schedule's hours are in.",
            default: 'UTC',
            examples: ['Europe/Berlin'],
          },
          config: {
            type: 'object',
            description:
              "The streamer's config (trib streamers NAME lists its keys); ${env:NAME} and ${secret:NAME} are substituted.",
            examples: [{ access_token: '${env:GITHUB_TOKEN}', repositories: ['acme/app'] }],
          },
          streams: {
            type: 'array',
            items: { type: 'string', minLength: 1 },
            uniqueItems: true,
            description: 'The streams to sync; all when absent.',
            examples: [['customers', 'orders']],
          },
          // Options are checked against the step's own schema in steps/step-config.ts.
          transforms: {
            type: 'array',
            items: { type: ['string', 'object'] },
            description:
              "Steps between the streamer and the warehouse, in order: a component's name or { use: <step>, streams?: [glob\u2026], \u2026options }.",
            examples: [['validate', { use: 'drop', fields: ['email'] }]],
          },
          chunk: {
            type: 'object',
            description: 'How the run is cut into chunks (each loads in one transaction).',
            additionalProperties: false,
            properties: {
              max_records: {
                type: 'integer',
                minimum: 1,
                description: 'Cut at the first STATE after this many records.',
                default: 50000,
              },
              max_bytes: {
                type: 'integer',
                minimum: 1024,
                description: 'Cut at the first STATE after this many uncompressed bytes.',
                default: 50331648,
              },
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
