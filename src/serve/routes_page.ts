// The web page: GET / (index.html) and its static files under /static/ (plain HTML, CSS and
// JavaScript shipped in the package, served as they are: no build step), and GET /model_card,
// the served model's card (README.md in its folder) as markdown text, or a short description
// built from the model when it has none.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { ServeContext } from './context.js';

/** src/serve/static in the package (this file runs as dist/src/serve/routes_page.js). */
export function staticDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'src', 'serve', 'static');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`the web page's files (src/serve/static) were not found above ${fileURLToPath(import.meta.url)}`);
}

export function registerPageRoutes(app: FastifyInstance, ctx: ServeContext): void {
  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'));
  app.get('/model_card', async (_req, reply) => {
    let card: string | null = null;
    if (ctx.modelDir) card = await readFile(join(ctx.modelDir, 'README.md'), 'utf8').catch(() => null);
    if (card === null) {
      const i = ctx.model.info();
      card = `# ${ctx.modelName}\n\n(no README.md in the model folder)\n\n` +
        Object.entries(i).map(([k, v]) => `- ${k}: ${JSON.stringify(v)}`).join('\n') + '\n';
    }
    reply.type('text/markdown; charset=utf-8');
    return card;
  });
}
