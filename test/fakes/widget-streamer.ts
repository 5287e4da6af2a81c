/** A streamer built on the SDK against the fake widget API: one stream per pagination style. */
import type { JsonObject } from '../../lib/protocol/messages.ts';
import { bearerToken, oauthRefreshToken } from '../../lib/streamer/auth.ts';
import { defineStream } from '../../lib/streamer/define-stream.ts';
import { defineStreamer } from '../../lib/streamer/define-streamer.ts';
import { bodyCursor, linkHeader, offsetLimit, pageNumber } from '../../lib/streamer/pagination.ts';

export interface WidgetConfig extends JsonObject {
  base_url: string;
  access_token: string;
  start_date: string;
  oauth?: boolean;
}

const widgetSchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    updated_at: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'updated_at'],
};
const incremental = (order: 'asc' | 'none' = 'asc') => ({
  method: 'INCREMENTAL' as const,
  key: 'updated_at',
  filter: 'gte' as const,
  order,
});

export const widgetStreamer = defineStreamer<WidgetConfig>({
  name: 'widgets',
  description: 'Test streamer for the fake widget API',
  configSchema: {
    type: 'object',
    required: ['base_url', 'access_token', 'start_date'],
    properties: {
      base_url: { type: 'string' },
      access_token: { type: 'string', secret: true },
      start_date: { type: 'string', format: 'date-time' },
      oauth: { type: 'boolean' },
    },
  },
  http: (config) => ({
    baseUrl: config.base_url,
    auth:
      config.oauth === true
        ? oauthRefreshToken({
            tokenUrl: `${config.base_url}/oauth/token`,
            clientId: 'client',
            clientSecret: 'secret',
            refreshToken: 'refresh-me',
            accessToken: config.access_token,
          })
        : bearerToken(config.access_token),
    isRateLimited: (response) =>
      response.status === 403 && response.headers.get('x-ratelimit-remaining') === '0',
    backoffBaseMs: 1,
  }),
  streams: [
    defineStream<WidgetConfig>({
      name: 'link_widgets',
      schema: widgetSchema,
      keyProperties: ['id'],
      replication: incremental(),
      request: ({ since }) => ({ path: '/link/widgets', query: { since, per_page: 10 } }),
      paginate: linkHeader(),
    }),
    defineStream<WidgetConfig>({
      name: 'late_widgets',
      schema: widgetSchema,
      keyProperties: ['id'],
      replication: { ...incremental(), lookback: '10m' },
      request: ({ since }) => ({ path: '/link/widgets', query: { since, per_page: 10 } }),
      paginate: linkHeader(),
      selectedByDefault: false,
    }),
    defineStream<WidgetConfig, { widget_id: number }>({
      name: 'parts',
      schema: {
        type: 'object',
        properties: {
          widget_id: { type: 'integer' },
          part: { type: 'integer' },
          updated_at: { type: 'string' },
        },
      },
      keyProperties: ['widget_id', 'part'],
      replication: { method: 'FULL_TABLE' },
      parent: { stream: 'link_widgets', partition: (widget) => ({ widget_id: Number(widget.id) }) },
      request: ({ partition }) => ({ path: `/widgets/${partition.widget_id}/parts` }),
      selectedByDefault: false,
    }),
    defineStream<WidgetConfig>({
      name: 'cursor_widgets',
      schema: widgetSchema,
      keyProperties: ['id'],
      replication: incremental(),
      request: ({ since }) => ({ path: '/cursor/widgets', query: { since } }),
      paginate: bodyCursor({ path: ['next_cursor'], param: 'cursor' }),
      extract: (body) => (body as { items: unknown[] }).items,
      selectedByDefault: false,
    }),
    defineStream<WidgetConfig>({
      name: 'offset_widgets',
      schema: widgetSchema,
      keyProperties: ['id'],
      replication: { method: 'FULL_TABLE' },
      request: () => ({ path: '/offset/widgets' }),
      paginate: offsetLimit({ limit: 5, moreField: 'more' }),
      extract: (body) => (body as { widgets: unknown[] }).widgets,
      selectedByDefault: false,
    }),
    defineStream<WidgetConfig>({
      name: 'page_widgets',
      schema: widgetSchema,
      keyProperties: ['id'],
      replication: incremental(),
      request: ({ since }) => ({ path: '/page/widgets', query: { since } }),
      paginate: pageNumber(),
      selectedByDefault: false,
    }),
    defineStream<WidgetConfig>({
      name: 'window_widgets',
      schema: widgetSchema,
      keyProperties: ['id'],
      replication: { ...incremental(), window: '7d' },
      request: ({ since, until }) => ({ path: '/window/widgets', query: { since, until } }),
      selectedByDefault: false,
    }),
    defineStream<WidgetConfig>({
      name: 'stuck_widgets',
      schema: widgetSchema,
      keyProperties: ['id'],
      replication: { method: 'FULL_TABLE' },
      request: () => ({ path: '/stuck/widgets' }),
      paginate: linkHeader(),
      selectedByDefault: false,
    }),
  ],
});
