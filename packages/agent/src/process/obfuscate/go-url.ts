/*
 * URLs parsed and written back as Go's net/url does it, because the Datadog Agent obfuscates
 * `http.url` by parsing it and printing it again: what it escapes, keeps, lowercases or refuses
 * decides the stored value. Strings here are Go's byte strings: one char per UTF-8 byte (latin1).
 */

export class GoUrlError extends Error {}

type Mode = 'path' | 'host' | 'userPassword' | 'fragment' | 'query';

const isAlnum = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

function shouldEscape(c: number, mode: Mode): boolean {
  if (isAlnum(c)) return false;
  const ch = String.fromCharCode(c);
  if (mode === 'host' && "!$&'()*+,;=:[]<>\"".includes(ch)) return false;
  if ('-_.~'.includes(ch)) return false;
  if ('$&+,/:;=?@'.includes(ch)) {
    switch (mode) {
      case 'path': return ch === '?';
      case 'userPassword': return ch === '@' || ch === '/' || ch === '?' || ch === ':';
      case 'query': return true;
      case 'fragment': return false;
      case 'host': return true;
    }
  }
  if (mode === 'fragment' && '!()*'.includes(ch)) return false;
  return true;
}

function escape(s: string, mode: Mode): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += shouldEscape(c, mode) ? `%${c.toString(16).toUpperCase().padStart(2, '0')}` : s[i];
  }
  return out;
}

function unescape(s: string, mode: Mode): string {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */) {
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) throw new GoUrlError(`invalid URL escape ${s.slice(i, i + 3)}`);
      const v = parseInt(s.slice(i + 1, i + 3), 16);
      if (mode === 'host' && v < 0x80 && s.slice(i, i + 3) !== '%25') throw new GoUrlError('invalid URL escape in host');
      out += String.fromCharCode(v);
      i += 3;
      continue;
    }
    if (mode === 'host' && c < 0x80 && shouldEscape(c, mode)) throw new GoUrlError('invalid character in host name');
    out += mode === 'query' && c === 43 ? ' ' : s[i];
    i++;
  }
  return out;
}

/** Go's validEncoded: whether s may stand as written for its decoded form. */
function validEncoded(s: string, mode: Mode): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if ("!$&'()*+,;=:@[]%".includes(ch)) continue;
    if (shouldEscape(s.charCodeAt(i), mode)) return false;
  }
  return true;
}

const validOptionalPort = (port: string) => port === '' || /^:[0-9]*$/.test(port);

export interface GoUrl {
  scheme: string;
  opaque: string;
  hasUser: boolean;
  host: string;
  omitHost: boolean;
  path: string;
  rawPath: string;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
  rawFragment: string;
}

function parseHost(host: string): string {
  if (host.startsWith('[')) {
    const i = host.lastIndexOf(']');
    if (i < 0) throw new GoUrlError("missing ']' in host");
    if (!validOptionalPort(host.slice(i + 1))) throw new GoUrlError('invalid port after host');
  } else {
    const i = host.lastIndexOf(':');
    if (i !== -1 && !validOptionalPort(host.slice(i))) throw new GoUrlError('invalid port after host');
  }
  return unescape(host, 'host');
}

const USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;

/** Go's url.Parse. Throws GoUrlError where it returns an error. */
export function parseGoUrl(raw: string): GoUrl {
  const hash = raw.indexOf('#');
  const u = parse(hash < 0 ? raw : raw.slice(0, hash));
  if (hash >= 0) {
    const f = raw.slice(hash + 1);
    u.fragment = unescape(f, 'fragment');
    u.rawFragment = escape(u.fragment, 'fragment') === f ? '' : f;
  }
  return u;
}

function parse(raw: string): GoUrl {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new GoUrlError('invalid control character in URL');
  const u: GoUrl = { scheme: '', opaque: '', hasUser: false, host: '', omitHost: false, path: '', rawPath: '', forceQuery: false, rawQuery: '', fragment: '', rawFragment: '' };
  if (raw === '*') {
    u.path = '*';
    return u;
  }
  let rest = raw;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(raw);
  if (scheme) {
    u.scheme = scheme[0].slice(0, -1).toLowerCase();
    rest = raw.slice(scheme[0].length);
  } else if (raw.startsWith(':')) throw new GoUrlError('missing protocol scheme');
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    u.forceQuery = true;
    rest = rest.slice(0, -1);
  } else {
    const q = rest.indexOf('?');
    if (q >= 0) {
      u.rawQuery = rest.slice(q + 1);
      rest = rest.slice(0, q);
    }
  }
  if (!rest.startsWith('/')) {
    if (u.scheme !== '') {
      u.opaque = rest;
      return u;
    }
    if (rest.split('/', 1)[0]!.includes(':')) throw new GoUrlError('first path segment in URL cannot contain colon');
  }
  if (rest.startsWith('//') && (u.scheme !== '' || !rest.startsWith('///'))) {
    let authority = rest.slice(2);
    rest = '';
    const slash = authority.indexOf('/');
    if (slash >= 0) {
      rest = authority.slice(slash);
      authority = authority.slice(0, slash);
    }
    const at = authority.lastIndexOf('@');
    u.host = parseHost(at < 0 ? authority : authority.slice(at + 1));
    if (at >= 0) {
      const userinfo = authority.slice(0, at);
      if (!USERINFO.test(userinfo)) throw new GoUrlError('invalid userinfo');
      const colon = userinfo.indexOf(':');
      unescape(colon < 0 ? userinfo : userinfo.slice(0, colon), 'userPassword');
      if (colon >= 0) unescape(userinfo.slice(colon + 1), 'userPassword');
      u.hasUser = true;
    }
  } else if (u.scheme !== '' && rest.startsWith('/')) u.omitHost = true;
  u.path = unescape(rest, 'path');
  u.rawPath = escape(u.path, 'path') === rest ? '' : rest;
  return u;
}

function escapedPath(u: GoUrl): string {
  if (u.rawPath !== '' && validEncoded(u.rawPath, 'path')) {
    try {
      if (unescape(u.rawPath, 'path') === u.path) return u.rawPath;
    } catch {
      // not a valid encoding: escape the path instead
    }
  }
  if (u.path === '*') return '*';
  return escape(u.path, 'path');
}

function escapedFragment(u: GoUrl): string {
  if (u.rawFragment !== '' && validEncoded(u.rawFragment, 'fragment')) {
    try {
      if (unescape(u.rawFragment, 'fragment') === u.fragment) return u.rawFragment;
    } catch {
      // as for the path
    }
  }
  return escape(u.fragment, 'fragment');
}

/** Go's (*url.URL).String(). */
export function formatGoUrl(u: GoUrl): string {
  let buf = '';
  if (u.scheme !== '') buf += `${u.scheme}:`;
  if (u.opaque !== '') buf += u.opaque;
  else {
    if (u.scheme !== '' || u.host !== '' || u.hasUser) {
      if (!(u.omitHost && u.host === '' && !u.hasUser)) {
        if (u.host !== '' || u.path !== '' || u.hasUser) buf += '//';
        if (u.host !== '') buf += escape(u.host, 'host');
      }
    }
    const path = escapedPath(u);
    if (path !== '' && path[0] !== '/' && u.host !== '') buf += '/';
    if (buf === '' && path.split('/', 1)[0]!.includes(':')) buf += './';
    buf += path;
  }
  if (u.forceQuery || u.rawQuery !== '') buf += `?${u.rawQuery}`;
  if (u.fragment !== '') buf += `#${escapedFragment(u)}`;
  return buf;
}

export const toGoBytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
export const fromGoBytes = (s: string) => Buffer.from(s, 'latin1').toString('utf8');
