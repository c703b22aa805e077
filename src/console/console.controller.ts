import { Controller, Get, OnModuleInit, Param, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../problem/api-problems.decorator';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ProblemException } from '../problem/problem';

/** `nest build` copies the folder beside the compiled controller (nest-cli.json `assets`). */
const PUBLIC_DIR = join(__dirname, 'public');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** Only the console's own files may run or style the page: no inline script or handler. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The dashboard's chart library (uPlot, MIT), served from its npm package beside the console's
 * own files: no CDN, and the Content-Security-Policy stays 'self'.
 */
const LIBRARY_FILES: Readonly<Record<string, string>> = {
  'uPlot.esm.js': require.resolve('uplot/dist/uPlot.esm.js'),
  'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
};

interface ConsoleFile {
  body: Buffer;
  contentType: string;
}

/**
 * The support console: static files (with the chart library's), open to anyone (the API calls the page makes carry the
 * token). A fixed set read once at start-up, so a request path can never reach another file,
 * and an unknown one is a problem+json 404 like every other route.
 */
@ApiTags('console')
@Controller('console')
export class ConsoleController implements OnModuleInit {
  private readonly files = new Map<string, ConsoleFile>();

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async onModuleInit(): Promise<void> {
    // Nest folds `console/` into `console`, and fastify tells them apart: the page is served at
    // both, as people type either (its files are linked by absolute paths, so both work).
    this.adapterHost.httpAdapter
      .getInstance<FastifyInstance>()
      .get('/console/', (_request, reply) => reply.send(this.send(reply, 'index.html')));
    const paths = [
      ...(await readdir(PUBLIC_DIR)).map((name) => [name, join(PUBLIC_DIR, name)]),
      ...Object.entries(LIBRARY_FILES),
    ];
    for (const [name, path] of paths) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) this.files.set(name, { body: await readFile(path), contentType });
    }
  }

  @Get()
  @ApiOperation({ summary: 'The support console page (it asks for a support token itself)' })
  @ApiOkResponse({ content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiProblems()
  page(@Res({ passthrough: true }) reply: FastifyReply): Buffer {
    return this.send(reply, 'index.html');
  }

  @Get(':file')
  @ApiOperation({ summary: "One of the console's own files" })
  @ApiOkResponse({
    content: {
      'text/html': { schema: { type: 'string' } },
      'text/css': { schema: { type: 'string' } },
      'text/javascript': { schema: { type: 'string' } },
    },
  })
  @ApiProblems('notFound')
  file(@Param('file') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    return this.send(reply, name);
  }

  private send(reply: FastifyReply, name: string): Buffer {
    const file = this.files.get(name);
    if (!file) throw new ProblemException('notFound', { detail: `No console file ${name}` });
    void reply.headers({
      'content-type': file.contentType,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      // A few small files, fetched again at every load: a deployment is seen at once.
      'cache-control': 'no-cache',
    });
    return file.body;
  }
}
