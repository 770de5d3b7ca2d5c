/**
 * The HTTP masking API (`masker serve`): `POST /v1/mask` with API keys, `/metrics`, `/healthz`, `/readyz`.
 * Same engine, keys and live policies as the stream workers. See docs/http-api.md and docs/openapi.yaml.
 */
export { allowsPolicy, ApiKeyStore, loadApiKeys, MIN_API_KEY_LENGTH, parseApiKeys, sha256Hex } from './api-keys.js';
export type { ApiKeyEntry, Authentication } from './api-keys.js';
export { KafkaHttpAuditSink, LogHttpAuditSink } from './http-audit.js';
export type { HttpAuditEvent, HttpAuditSink, ServeAuditEvent } from './http-audit.js';
export { startMaskApi } from './mask-api.js';
export type { MaskApi, MaskApiOptions } from './mask-api.js';
export { startMaskServer } from './mask-server.js';
export type { MaskServerOptions, RunningMaskServer } from './mask-server.js';
export { httpRouteFor, MaskService } from './mask-service.js';
export type { MaskResponseBody, MaskServiceOptions } from './mask-service.js';
export { HttpProblem, PROBLEMS, problemBody } from './problem.js';
export type { ProblemBody, ProblemSlug } from './problem.js';
export { DEFAULT_MAX_BODY_BYTES } from './request-body.js';
