/**
 * A thin REST client for the control plane (over http-transport.ts: TLS trust from --ca-file,
 * --cert, --key). `call` returns the parsed answer of a 2xx; every other answer becomes a
 * CliError whose exit code comes from exitCodeForStatus, a network or TLS failure a CliError
 * with exit 1. The token goes only into the Authorization header: it is never part of a message.
 */
import { CliError, type CliIssue } from './cli-error.ts';
import { exitCodeForStatus } from './exit-codes.ts';
import { HttpTransport, type TlsTrust, type TransportAnswer } from './http-transport.ts';

export interface ApiAnswer<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface CallOptions {
  /** JSON body. */
  readonly json?: unknown;
  /** Raw config text with its media type (YAML or JSON), sent as is. */
  readonly raw?: { readonly text: string; readonly contentType: string };
  /** Spooky-Change-Reason (required by every mutation). */
  readonly reason?: string;
  readonly idempotencyKey?: string;
  readonly ifMatch?: string;
}

/** RFC 9457 problem body as the control plane sends it. */
interface ProblemBody {
  readonly title?: unknown;
  readonly detail?: unknown;
  readonly code?: unknown;
  readonly issues?: unknown;
}

const REQUEST_TIMEOUT_MS = 30_000;

const NO_TLS_FILES: TlsTrust = { caFile: null, certFile: null, keyFile: null };

export class ApiClient {
  readonly #transport: HttpTransport;
  readonly #token: string | null;

  constructor(server: string, token: string | null, tls: TlsTrust = NO_TLS_FILES) {
    this.#transport = new HttpTransport(server, tls);
    this.#token = token;
  }

  /** Ends kept-alive connections; the run is over. */
  close(): void {
    this.#transport.close();
  }

  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.#token !== null) headers['authorization'] = `Bearer ${this.#token}`;
    if (options.reason !== undefined) headers['spooky-change-reason'] = options.reason;
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
    let body: string | undefined;
    if (options.raw) {
      headers['content-type'] = options.raw.contentType;
      body = options.raw.text;
    } else if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const res: TransportAnswer = await this.#transport.send({
      method,
      path,
      headers,
      timeoutMs: REQUEST_TIMEOUT_MS,
      ...(body !== undefined ? { body } : {}),
    });
    const parsed = parseJson(res.text);
    if (res.status >= 200 && res.status < 300) {
      return { status: res.status, headers: res.headers, body: parsed as T };
    }
    throw problemError(res.status, parsed, `${method} ${path}`);
  }
}

/** The CliError for a non-2xx answer: the problem's code, detail and issues. */
export function problemError(status: number, body: unknown, what: string): CliError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as ProblemBody;
  const issues = issuesOf(problem.issues);
  const problemCode = typeof problem.code === 'string' ? problem.code : null;
  const code = problemCode ?? `http_${status}`;
  const detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : '';
  const message = `${what} → ${status}${detail === '' ? '' : `: ${detail}`}`;
  return new CliError(code, message, exitCodeForStatus(status, issues.length > 0, problemCode), { issues, status });
}

export function issuesOf(value: unknown): CliIssue[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null)
    .map((i) => ({ pointer: String(i['pointer'] ?? ''), code: String(i['code'] ?? 'unknown'), message: String(i['message'] ?? '') }));
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
