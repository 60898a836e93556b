// Sending one message to one channel. Each channel type has its transport, in a map the
// compiler checks is complete; each answers sent, try again later, or drop (a request the
// server will never take). What a server answered is kept for `berth notify test`.
import { createHmac, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Severity } from '../events/types.js';
import { makeEvent } from '../events/types.js';
import { batchOf, type Message, render } from './batch.js';
import type { Channel, ChannelType } from './settings.js';

export type SendResult = { ok: true; answer: string } | { ok: false; retry: boolean; error: string };

/** A request must finish in this time; a hung server is tried again later. */
export const SEND_TIMEOUT_MS = 15_000;

export interface SendDeps {
  hostname: string;
  fetch: typeof fetch;
  now: () => Date;
}

type Transport<T extends ChannelType> = (
  ch: Extract<Channel, { type: T }>,
  msg: Message,
  deps: SendDeps,
) => Promise<SendResult>;

const NTFY_PRIORITY: Record<Severity, number> = { info: 3, warning: 4, critical: 5 };
const NTFY_TAGS: Record<Severity, string> = {
  info: 'information_source',
  warning: 'warning',
  critical: 'rotating_light',
};

/** An HTTP answer: 2xx sent; 408, 429 and 5xx are worth another try; any other 4xx never will be. */
/** What a server answered says at most this much: the rest is never read (a hostile server may send any size). */
export const MAX_ANSWER_BYTES = 4096;

async function answerText(r: Response): Promise<string> {
  const reader = r.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body cut off: what came is enough to say.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString('utf8');
}

async function httpResult(r: Response): Promise<SendResult> {
  const text = (await answerText(r)).slice(0, 300).replace(/\s+/g, ' ').trim();
  const answer = `${r.status} ${r.statusText}${text ? `: ${text}` : ''}`;
  if (r.ok) return { ok: true, answer };
  return { ok: false, retry: r.status >= 500 || r.status === 408 || r.status === 429, error: answer };
}

/** The request did not get an answer (refused, unreachable, timed out): try again later. */
function networkError(err: unknown): SendResult {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const why =
    e.name === 'TimeoutError'
      ? `no answer in ${SEND_TIMEOUT_MS / 1000} s`
      : (e.cause?.code ?? e.cause?.message ?? e.message);
  return { ok: false, retry: true, error: `could not reach the server: ${why}` };
}

async function post(
  deps: SendDeps,
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<SendResult> {
  try {
    const r = await deps.fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      redirect: 'error',
    });
    return await httpResult(r);
  } catch (err) {
    return networkError(err);
  }
}

/** ntfy's JSON publishing (POST to the server's root): UTF-8 titles work, headers would not. */
const ntfy: Transport<'ntfy'> = (ch, msg, deps) => {
  const body = JSON.stringify({
    topic: ch.topic,
    title: msg.title,
    message: msg.body,
    priority: NTFY_PRIORITY[msg.severity],
    tags: [NTFY_TAGS[msg.severity]],
  });
  const root = new URL('/', ch.url).toString();
  return post(deps, root, body, ch.token ? { authorization: `Bearer ${ch.token}` } : {});
};

/** The Standard Webhooks signature: v1,base64(HMAC-SHA256(key, "id.timestamp.body")). */
export function webhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

const webhook: Transport<'webhook'> = (ch, msg, deps) => {
  const now = deps.now();
  const body = JSON.stringify({
    type: 'berth.notification',
    host: deps.hostname,
    at: now.toISOString(),
    severity: msg.severity,
    title: msg.title,
    body: msg.body,
    events: msg.events,
  });
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(now.getTime() / 1000);
  const headers: Record<string, string> = ch.secret
    ? {
        'webhook-id': id,
        'webhook-timestamp': String(ts),
        'webhook-signature': webhookSignature(ch.secret, id, ts, body),
      }
    : {};
  return post(deps, ch.url, body, headers);
};

/** SMTP through nodemailer (loaded only when a mail is sent); STARTTLS is required, never opportunistic. */
const email: Transport<'email'> = async (ch, msg) => {
  const { createTransport } = await import('nodemailer');
  const ca = ch.ca_file ? await readFile(ch.ca_file, 'utf8').catch(() => undefined) : undefined;
  if (ch.ca_file && ca === undefined)
    return { ok: false, retry: true, error: `cannot read ca_file ${ch.ca_file}` };
  const transport = createTransport({
    host: ch.host,
    port: ch.port,
    secure: ch.security === 'tls',
    requireTLS: ch.security === 'starttls',
    ...(ch.user ? { auth: { user: ch.user, pass: ch.password ?? '' } } : {}),
    tls: { ...(ca ? { ca } : {}), ...(isIP(ch.host) ? {} : { servername: ch.host }), minVersion: 'TLSv1.2' },
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
  try {
    const info = (await transport.sendMail({
      from: ch.from,
      to: ch.to,
      subject: msg.title,
      text: msg.body,
    })) as { response?: string };
    return { ok: true, answer: info.response ?? 'sent' };
  } catch (err) {
    const e = err as Error & { code?: string; response?: string };
    const why =
      e.code === 'EAUTH'
        ? `the server refused the user name or password (${e.response ?? e.message})`
        : e.code === 'ETLS'
          ? `the server offers no STARTTLS, and berth never sends mail in plain text (${e.response ?? e.message})`
          : `${e.code ? `${e.code}: ` : ''}${e.response ?? e.message}`;
    return { ok: false, retry: true, error: why };
  } finally {
    transport.close();
  }
};

const TRANSPORTS: { [T in ChannelType]: Transport<T> } = { ntfy, webhook, email };

/** A test message to one channel, as `berth notify test` and the notifier send it. */
export function sendTest(name: string, ch: Channel, deps: SendDeps): Promise<SendResult> {
  const e = makeEvent('notify-test', name, 'if you read this, berth can reach you here', deps.now());
  return send(ch, render(batchOf(e), deps.hostname), deps);
}

export function send(ch: Channel, msg: Message, deps: SendDeps): Promise<SendResult> {
  return (TRANSPORTS[ch.type] as Transport<typeof ch.type>)(ch as never, msg, deps);
}
