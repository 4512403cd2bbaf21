// Every error the gateway answers with is problem+json (RFC 9457), written by one handler.
// Our errors say what the client can do; 5xx bodies reveal nothing, the log gets everything.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export const BadEventSchema = Type.Object({
  index: Type.Integer({ minimum: 0, description: 'position of the event in the batch (0-based)' }),
  reason: Type.String(),
});

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    /** 400 for a batch: the bad events (the first 100). */
    errors: Type.Optional(Type.Array(BadEventSchema)),
    /** 400 for a batch: how many events were bad in all. */
    badEvents: Type.Optional(Type.Integer({ minimum: 0 })),
    /** 429: seconds until the tenant's bucket holds this batch (also in Retry-After). */
    retryAfterSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { $id: 'Problem' },
);
export type Problem = Static<typeof Problem>;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://tracer.dev/problems/';

/** An answer we chose: status, a stable type slug, a title, and what to do about it. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly extra: Partial<Problem>;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    slug: string,
    title: string,
    detail?: string,
    options: { extra?: Partial<Problem>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? title);
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

/** Fastify's own client errors (bad content type, body too large, ...) keep their status. */
const fastifyTitles: Record<number, [string, string]> = {
  400: ['bad-request', 'Bad request'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  413: ['body-too-large', 'Request body too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
};

export function problemHandler(this: unknown, err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  let problem: Problem;
  if (err instanceof ProblemError) {
    problem = { type: TYPE_BASE + err.slug, title: err.title, status: err.status, detail: err.message, ...err.extra };
    for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  } else {
    const status = (err as FastifyError).statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const [slug, title] = fastifyTitles[status] ?? ['client-error', 'Request refused'];
      problem = { type: TYPE_BASE + slug, title, status, detail: err.message };
    } else {
      request.log.error({ err, url: request.url }, 'request failed');
      problem = {
        type: `${TYPE_BASE}internal`,
        title: 'Internal error',
        status: 500,
        detail: 'the gateway failed; retry later',
      };
    }
  }
  if (problem.status >= 500 && err instanceof ProblemError)
    request.log.warn({ err: err.message, url: request.url }, err.title);
  problem.instance = request.url;
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
