/**
 * Problem details (RFC 9457) for every error answer of the HTTP API. The catalogue below is the whole
 * list of problem types a client can see; docs/http-api.md and docs/openapi.yaml describe the same list.
 *
 * `type` is a relative URI reference (`/problems/<slug>`): resolved against the request URL it points to
 * this server, which answers `GET /problems/<slug>` with the description below.
 *
 * Never put a record value in a problem: `detail` and `errors[].detail` are built from fixed text, schema
 * paths and type names only (avsc and JSON.parse messages quote input and are never passed through).
 */
export const PROBLEM_TYPE_PREFIX = '/problems/';

export const PROBLEMS = {
  'unauthorized': { status: 401, title: 'Unauthorized', description: 'No API key, or an API key this server does not know. Send `Authorization: Bearer <key>`.' },
  'forbidden': { status: 403, title: 'Forbidden', description: 'The API key may not use the requested policy.' },
  'not-found': { status: 404, title: 'Not Found', description: 'No such endpoint.' },
  'method-not-allowed': { status: 405, title: 'Method Not Allowed', description: 'The endpoint does not accept this method; see the Allow header.' },
  'unsupported-media-type': { status: 415, title: 'Unsupported Media Type', description: 'The request body must be `application/json` (UTF-8).' },
  'payload-too-large': { status: 413, title: 'Payload Too Large', description: 'The request body is larger than the server accepts (`--max-body-bytes`).' },
  'malformed-json': { status: 400, title: 'Malformed JSON', description: 'The request body is not valid UTF-8 JSON.' },
  'invalid-request': { status: 400, title: 'Invalid Request', description: 'The JSON body does not have the shape of a mask request; `errors` lists each problem with its JSON path.' },
  'unknown-schema': { status: 422, title: 'Unknown Schema', description: 'The registry has no such subject or schema id, or the schema is not Avro.' },
  'unknown-policy': { status: 422, title: 'Unknown Policy', description: 'This server does not serve a policy of that name.' },
  'record-invalid': { status: 422, title: 'Record Does Not Match Schema', description: 'The record is not a value of the schema in Avro JSON encoding; `errors` names the paths at fault.' },
  'not-maskable': { status: 422, title: 'Record Cannot Be Masked', description: 'The policy cannot be applied to this schema or record (e.g. onUnmatchedSensitive: quarantine); `code` is the masker error code.' },
  'policy-unavailable': { status: 503, title: 'Policy Unavailable', description: 'The policy is known but no valid version of it is loaded yet.' },
  'registry-unavailable': { status: 503, title: 'Schema Registry Unavailable', description: 'The schema registry could not be reached. Retry later.' },
  'audit-unavailable': { status: 503, title: 'Audit Unavailable', description: 'The audit event could not be written, so the masked record is withheld. Retry later.' },
  'shutting-down': { status: 503, title: 'Shutting Down', description: 'The server is stopping. Retry on another instance.' },
  'internal': { status: 500, title: 'Internal Error', description: 'Something unexpected failed. The audit event and the log carry the request id.' },
} as const satisfies Record<string, { status: number; title: string; description: string }>;

export type ProblemSlug = keyof typeof PROBLEMS;

/** One problem inside an `invalid-request` or `record-invalid` answer: where (a JSON path) and what. */
export interface ProblemItem {
  readonly path: string;
  readonly detail: string;
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  /** Correlates with the `x-request-id` header, the audit event `id` and the log. */
  readonly requestId: string;
  /** The masker error code for `not-maskable` (e.g. MASKER_PLAN). */
  readonly code?: string;
  readonly errors?: readonly ProblemItem[];
}

/** A request that ends in a problem answer. Thrown inside the request pipeline, turned into the answer at the top. */
export class HttpProblem extends Error {
  readonly slug: ProblemSlug;
  readonly status: number;
  readonly detail: string | undefined;
  readonly code: string | undefined;
  readonly errors: readonly ProblemItem[] | undefined;
  /** Extra response headers (Allow, WWW-Authenticate, Retry-After). */
  readonly headers: Readonly<Record<string, string>>;
  /** Why, for the audit event and the log only — never sent to the client (401/403 say nothing more). */
  readonly reason: string;

  constructor(
    slug: ProblemSlug,
    options: {
      detail?: string; code?: string; errors?: readonly ProblemItem[];
      headers?: Readonly<Record<string, string>>; reason?: string; cause?: unknown;
    } = {},
  ) {
    super(`${slug}${options.reason === undefined ? '' : `: ${options.reason}`}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpProblem';
    this.slug = slug;
    this.status = PROBLEMS[slug].status;
    this.detail = options.detail;
    this.code = options.code;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
    this.reason = options.reason ?? slug;
  }
}

export function problemBody(problem: HttpProblem, requestId: string): ProblemBody {
  const entry = PROBLEMS[problem.slug];
  return {
    type: `${PROBLEM_TYPE_PREFIX}${problem.slug}`,
    title: entry.title,
    status: entry.status,
    ...(problem.detail === undefined ? {} : { detail: problem.detail }),
    requestId,
    ...(problem.code === undefined ? {} : { code: problem.code }),
    ...(problem.errors === undefined ? {} : { errors: problem.errors }),
  };
}

/** The slug of a `/problems/<slug>` path, when it names a catalogued problem type. */
export function problemSlugOf(path: string): ProblemSlug | undefined {
  if (!path.startsWith(PROBLEM_TYPE_PREFIX)) return undefined;
  const slug = path.slice(PROBLEM_TYPE_PREFIX.length);
  return Object.hasOwn(PROBLEMS, slug) ? (slug as ProblemSlug) : undefined;
}
