import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { SimWorld } from './world.js';

/*
 * An EC2 instance metadata service with real IMDSv1/IMDSv2 semantics (ecs-spec 1.3-1.10):
 * token PUT with TTL validation and an echoed TTL header, token expiry, 401s, X-Forwarded-For
 * refused, listings, text/plain everywhere, AWS's XHTML error pages, and the hop limit: a token
 * PUT from a caller more hops away than the limit is accepted and never answered, which is what
 * a bridge-mode container sees when HttpPutResponseHopLimit is 1.
 */

export type ImdsMode = 'v1' | 'v2-optional' | 'v2-required' | 'off';
export const IMDS_MODES: readonly ImdsMode[] = ['v1', 'v2-optional', 'v2-required', 'off'];

export interface ImdsServerOptions {
  world: SimWorld;
  /**
   * v1: no token API (the PUT gets 404, as before IMDSv2); v2-optional: both work (HttpTokens=optional);
   * v2-required: token needed (HttpTokens=required); off: every request 403 (HttpEndpoint=disabled).
   */
  mode?: ImdsMode;
  /** HttpPutResponseHopLimit. Unset: every caller is answered. */
  hopLimit?: number;
  /**
   * Whether a caller is a container (two hops from IMDS) rather than the host (one hop). Default:
   * a caller whose source address differs from the address it connected to, i.e. it came from
   * another network namespace or another loopback address.
   */
  isContainer?: (remoteAddress: string, localAddress: string) => boolean;
  /** Answer every token PUT with this status (to exercise clients' fallbacks). */
  tokenPutStatus?: number;
  /** Clock for token expiry (ms). */
  now?: () => number;
}

export interface ImdsServer {
  server: Server;
  url: string;
  port: number;
  /** Requests seen, by kind, for tests and the simulator's log. */
  counts: { tokenPut: number; tokenWithheld: number; get: number; unauthorized: number };
  close(): Promise<void>;
}

const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const MAX_TTL = 21600;

const TITLES: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

/** The XHTML error page IMDS sends (as AEMM reproduces it), so that naive clients meet the real thing. */
function errorPage(status: number): string {
  const title = `${status} - ${TITLES[status] ?? 'Error'}`;
  const encoding = status === 404 ? 'iso-8859-1' : 'UTF-8';
  return `<?xml version="1.0" encoding="${encoding}"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>${title}</title>
 </head>
 <body>
  <h1>${title}</h1>
 </body>
</html>
`;
}

type Tree = { [name: string]: Tree | string };

/** The metadata paths an agent-host lookup and AWS's clients read, rendered from the world. */
export function metadataTree(world: SimWorld): Tree {
  const i = world.instance;
  const identity = {
    accountId: i.accountId,
    architecture: 'x86_64',
    availabilityZone: i.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: i.amiId,
    instanceId: i.instanceId,
    instanceType: i.instanceType,
    kernelId: null,
    pendingTime: i.pendingTime,
    privateIp: i.localIpv4,
    ramdiskId: null,
    region: i.region,
    version: '2017-09-30',
  };
  // The real service pretty-prints with a space before the colon.
  const document = '{\n' + Object.entries(identity).map(([k, v]) => `  "${k}" : ${JSON.stringify(v)}`).join(',\n') + '\n}';
  return {
    'meta-data': {
      'ami-id': i.amiId,
      hostname: i.localHostname,
      'instance-id': i.instanceId,
      'instance-type': i.instanceType,
      'local-hostname': i.localHostname,
      'local-ipv4': i.localIpv4,
      mac: i.mac,
      network: { interfaces: { macs: { [i.mac]: {
        'device-number': '0',
        'interface-id': `eni-${i.instanceId.slice(2)}`,
        'local-hostname': i.localHostname,
        'local-ipv4s': i.localIpv4,
        mac: i.mac,
        'owner-id': i.accountId,
        'subnet-id': i.subnetId,
        'vpc-id': i.vpcId,
      } } } },
      placement: {
        'availability-zone': i.availabilityZone,
        'availability-zone-id': i.availabilityZoneId,
        region: i.region,
      },
      services: { domain: 'amazonaws.com', partition: 'aws' },
    },
    dynamic: { 'instance-identity': { document } },
  };
}

function listing(t: Tree): string {
  return Object.keys(t).sort().map((k) => (typeof t[k] === 'string' ? k : `${k}/`)).join('\n');
}

export function startImdsServer(o: ImdsServerOptions, host = '127.0.0.1', port = 0): Promise<ImdsServer> {
  const mode = o.mode ?? 'v2-optional';
  const now = o.now ?? Date.now;
  const tokens = new Map<string, number>();
  const tree = metadataTree(o.world);
  const withheld = new Set<Socket>();
  const counts = { tokenPut: 0, tokenWithheld: 0, get: 0, unauthorized: 0 };
  const isContainer = o.isContainer ?? ((remote, local) => normalize(remote) !== normalize(local));

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), Server: 'EC2ws', ...headers });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };
  const fail = (res: ServerResponse, status: number, headers: Record<string, string> = {}) => send(res, status, errorPage(status), headers);

  const tokenPut = (req: IncomingMessage, res: ServerResponse) => {
    counts.tokenPut++;
    if (req.headers['x-forwarded-for'] !== undefined) return fail(res, 403);
    if (mode === 'v1') return fail(res, 404);
    const ttlText = req.headers[TTL_HEADER];
    const ttl = typeof ttlText === 'string' && /^\d+$/.test(ttlText.trim()) ? Number(ttlText.trim()) : NaN;
    if (!(ttl >= 1 && ttl <= MAX_TTL)) return fail(res, 400);
    if (o.tokenPutStatus !== undefined) return fail(res, o.tokenPutStatus);
    const hops = isContainer(req.socket.remoteAddress ?? '', req.socket.localAddress ?? '') ? 2 : 1;
    if (o.hopLimit !== undefined && hops > o.hopLimit) {
      // The response's IP TTL runs out on the way: the caller connected, and nothing ever comes back.
      counts.tokenWithheld++;
      withheld.add(req.socket);
      req.socket.once('close', () => withheld.delete(req.socket));
      req.resume();
      return;
    }
    const token = randomBytes(32).toString('base64');
    tokens.set(token, now() + ttl * 1000);
    send(res, 200, token, { [TTL_HEADER]: String(ttl) });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (mode === 'off') return fail(res, 403);
    if (path === '/latest/api/token') {
      if (req.method === 'PUT') return tokenPut(req, res);
      return fail(res, 405, { Allow: 'PUT' });
    }
    if (/^\/[^/]+\/api\/token\/?$/.test(path)) return fail(res, 403);
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, { Allow: 'GET, HEAD' });
    counts.get++;
    const token = req.headers[TOKEN_HEADER];
    if (token !== undefined) {
      const expires = typeof token === 'string' ? tokens.get(token) : undefined;
      if (expires === undefined || expires <= now()) {
        if (expires !== undefined) tokens.delete(token as string);
        counts.unauthorized++;
        return fail(res, 401);
      }
    } else if (mode === 'v2-required') {
      counts.unauthorized++;
      return fail(res, 401);
    }
    if (path === '/') return send(res, 200, ['1.0', '2007-01-19', '2016-09-02', '2021-07-15', 'latest'].join('\n'));
    const parts = path.split('/').filter(Boolean);
    if (parts[0] !== 'latest') return fail(res, 404);
    let node: Tree | string = { ...tree, 'user-data': {} };
    for (const p of parts.slice(1)) {
      if (typeof node === 'string' || !(p in node)) return fail(res, 404);
      node = node[p]!;
    }
    if (typeof node === 'string') return send(res, 200, node);
    // user-data is a leaf that exists only when set; here it never is.
    if (parts[1] === 'user-data') return fail(res, 404);
    if (parts.length === 1) return send(res, 200, 'dynamic\nmeta-data\nuser-data');
    return send(res, 200, listing(node));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address() as AddressInfo;
      const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        server,
        url: `http://${h}:${addr.port}`,
        port: addr.port,
        counts,
        close: () => new Promise<void>((r) => {
          for (const s of withheld) s.destroy();
          server.close(() => r());
          server.closeAllConnections();
        }),
      });
    });
  });
}

function normalize(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
