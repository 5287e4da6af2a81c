import type { JsonSchema } from '../../protocol/messages.ts';

/** One pushed event: the `events` table. */
export const eventsSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['event_id', 'bucket_key', 'key', 'event_time', 'received_at'],
  properties: {
    event_id: {
      type: 'string',
      description: "the client's UUID v7, or one derived from the event's content",
    },
    bucket_key: { type: 'string' },
    bucket_name: { type: ['null', 'string'] },
    key: { type: 'string', description: 'the event key (one stream of values)' },
    value_text: { type: ['null', 'string'] },
    value_number: { type: ['null', 'number'] },
    value_bool: { type: ['null', 'boolean'] },
    event_time: { type: 'string', format: 'date-time', description: 'epoch, else iso8601, else arrival' },
    received_at: { type: 'string', format: 'date-time' },
  },
};
