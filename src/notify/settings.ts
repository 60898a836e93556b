// notify.yaml: where berth sends a message when something needs a person. Channels are
// ntfy, a webhook or email; each says which events it wants, from what severity, and when
// it keeps quiet. Read from /etc/berth/notify.yaml (also taken from the BERTH partition).
import { z } from 'zod';
import { EVENT_KIND_NAMES, type EventKind, SEVERITIES, type Severity } from '../events/types.js';

const NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const httpUrl = z
  .string()
  .max(2048)
  .refine((u) => /^https?:\/\/[^\s/]+/.test(u) && URL.canParse(u), 'must be an http:// or https:// URL');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (24 hours)');
const noControl = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !/[\x00-\x1f\x7f]/.test(s), 'must not hold control characters or line breaks');

const common = {
  /** Only these events (all when not given). */
  events: z.array(z.enum(EVENT_KIND_NAMES as [EventKind, ...EventKind[]])).optional(),
  /** Events below this severity are not sent (an incident's end always follows its start). */
  min_severity: z.enum(SEVERITIES as [Severity, ...Severity[]]).default('warning'),
  /** Messages below critical wait until quiet hours end, then come as one. */
  quiet_hours: z.strictObject({ from: hhmm, to: hhmm }).optional(),
};

const NtfyChannel = z.strictObject({
  type: z.literal('ntfy'),
  /** The server (https://ntfy.sh, or a self-hosted one). */
  url: httpUrl,
  topic: z.string().regex(/^[-_A-Za-z0-9]{1,64}$/, 'an ntfy topic is 1–64 letters, digits, - and _'),
  /** An access token (tk_…), sent as a Bearer token. */
  token: noControl(256).optional(),
  ...common,
});

const WebhookChannel = z.strictObject({
  type: z.literal('webhook'),
  url: httpUrl,
  /** Signs each body (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). */
  secret: noControl(256).optional(),
  ...common,
});

const EmailChannel = z.strictObject({
  type: z.literal('email'),
  host: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'must be a host name or address'),
  port: z.number().int().min(1).max(65535).default(587),
  /** starttls (required, never plain text) or tls (implicit, port 465). */
  security: z.enum(['starttls', 'tls']).default('starttls'),
  user: noControl(256).optional(),
  password: noControl(256).optional(),
  from: z.email(),
  to: z.array(z.email()).min(1).max(20),
  /** A CA certificate file (PEM) for a server with a private certificate. */
  ca_file: z.string().startsWith('/').optional(),
  ...common,
});

export const ChannelSchema = z.discriminatedUnion('type', [NtfyChannel, WebhookChannel, EmailChannel]);
export type Channel = z.output<typeof ChannelSchema>;
export type ChannelType = Channel['type'];

export const NotifySettingsSchema = z.strictObject({
  channels: z
    .record(z.string().regex(NAME, 'a channel name is lower-case letters, digits and dashes'), ChannelSchema)
    .default({}),
});
export type NotifySettings = z.output<typeof NotifySettingsSchema>;

export const NO_CHANNELS: NotifySettings = { channels: {} };
