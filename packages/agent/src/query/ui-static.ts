import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/*
 * The web UI, built by Vite into packages/ui/dist, served by the agent on its API port: files
 * under /assets/ (hashed names, cached for a year) and index.html for every other page path, so
 * that links into the app (/services/checkout?from=...) load it.
 */

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.woff2': 'font/woff2',
};

export const DEFAULT_UI_DIR = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

export function serveUi(app: FastifyInstance, dir = DEFAULT_UI_DIR): void {
  const root = normalize(dir);
  const built = existsSync(join(root, 'index.html'));
  app.setNotFoundHandler(async (req, reply) => {
    const path = (req.url.split('?')[0] ?? '/');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply.code(404).send({ error: `${req.method} ${path} not found` });
    if (path.startsWith('/api/')) return reply.code(404).send({ error: `${path} not found` });
    if (!built) {
      return reply.code(503).type('text/plain; charset=utf-8').send('The web UI is not built: run `npm run build` (the query API works without it).\n');
    }
    if (path.startsWith('/assets/')) {
      const file = normalize(join(root, decodeURIComponent(path)));
      if (!file.startsWith(root + sep) && !file.startsWith(root)) return reply.code(404).send({ error: 'not found' });
      try {
        const body = await readFile(file);
        return reply.type(TYPES[extname(file)] ?? 'application/octet-stream').header('Cache-Control', 'public, max-age=31536000, immutable').send(body);
      } catch {
        return reply.code(404).send({ error: `${path} not found` });
      }
    }
    const html = await readFile(join(root, 'index.html'));
    return reply.type(TYPES['.html']!).header('Cache-Control', 'no-cache').send(html);
  });
}
