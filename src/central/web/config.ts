// The `web` section of the central service's config: whether to serve the command centre, where,
// and how its cookies and fleet view behave.
import { z } from 'zod';

export const DEFAULT_WEB_PORT = 8080;

export const WebConfigSchema = z.strictObject({
  enabled: z.boolean({ error: 'should be true or false' }).default(false),
  /** 127.0.0.1 unless a TLS reverse proxy on another host forwards to the page. */
  host: z.string({ error: 'should be an IP address or host name' }).min(1).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(DEFAULT_WEB_PORT),
  /** Marks the session cookie Secure; set false only when the page is served over plain HTTP. */
  secureCookies: z.boolean().default(true),
  /** A car heard from within this window counts as online, in ms. */
  carOnlineWindowMs: z.number().int().min(1000).max(24 * 3600 * 1000).default(60_000),
});

export type WebConfig = z.infer<typeof WebConfigSchema>;

export const DEFAULT_WEB_CONFIG: WebConfig = WebConfigSchema.parse({});
