/** JSON Schemas of the Drift streams. Drift's epoch-millisecond times are date-times here. */
import type { JsonSchema } from '../../protocol/messages.ts';

const text = { type: ['null', 'string'] };
const integer = { type: ['null', 'integer'] };
const flag = { type: ['null', 'boolean'] };
const time = { type: ['null', 'string'], format: 'date-time' };
const json = {};

export const driftSchemas: Record<string, JsonSchema> = {
  conversations: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      status: text,
      contactId: integer,
      inboxId: integer,
      participants: json,
      relatedPlaybookId: text,
      conversationTags: json,
      createdAt: time,
      updatedAt: { type: 'string', format: 'date-time' },
    },
  },
  messages: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      conversationId: integer,
      orgId: integer,
      type: text,
      body: text,
      author: json,
      buttons: json,
      context: json,
      attributes: json,
      createdAt: time,
    },
  },
  contacts: {
    type: 'object',
    properties: { id: { type: 'integer' }, createdAt: time, attributes: json },
  },
  accounts: {
    type: 'object',
    properties: {
      accountId: { type: 'string' },
      ownerId: integer,
      name: text,
      domain: text,
      customProperties: json,
      deleted: flag,
      targeted: flag,
      createDateTime: time,
      updateDateTime: time,
    },
  },
  users: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      orgId: integer,
      name: text,
      alias: text,
      email: text,
      phone: text,
      locale: text,
      availability: text,
      role: text,
      timeZone: text,
      avatarUrl: text,
      verified: flag,
      bot: flag,
      createdAt: time,
      updatedAt: time,
    },
  },
};

/** Top-level attributes that are epoch milliseconds at the API. */
export const MILLISECOND_ATTRIBUTES = new Set(['createdAt', 'updatedAt', 'createDateTime', 'updateDateTime']);
