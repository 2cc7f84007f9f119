import { isIP } from 'node:net';

/**
 * An answer from IMDS or a metadata file as an IP address, or undefined. Surrounding whitespace is
 * tolerated (a file edited by hand, a proxy that appends a newline); anything else is refused, so
 * an HTML error page can never become the agent's host.
 */
export function asIpAddress(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  return isIP(v) !== 0 ? v : undefined;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** A value a user may put in DD_AGENT_HOST: an IP address or a DNS name. */
export function isHostValue(value: string): boolean {
  return isIP(value) !== 0 || HOSTNAME.test(value);
}

/** `host:port` for a URL: IPv6 literals go in brackets. */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Shortens a value for a message: one line, at most 60 characters. */
export function preview(value: string): string {
  const line = value.replace(/\s+/g, ' ').trim();
  return JSON.stringify(line.length > 60 ? line.slice(0, 57) + '...' : line);
}
