import { ApiError, errorFromResponse, networkError } from './api-error'

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue | QueryValue[]>

export interface RequestOptions {
  query?: Query
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Show a failure to the person (toast). Default: on for changes, off for reads. */
  notify?: boolean
  /** A 401 here is part of the sign-in flow, not an expired session. */
  authFlow?: boolean
}

export interface ApiClientOptions {
  /** Same origin by default: the C++ server serves both the portal and the API. */
  baseURL?: string
  fetch?: typeof globalThis.fetch
  /** The session's CSRF token, sent as X-CSRF-Token on every state-changing request. */
  csrfToken: () => string | null | undefined
  /** Fetches a fresh CSRF token after a `csrf_failed` answer; the request is then sent again. */
  refreshCsrf?: () => Promise<void>
  onError?: (error: ApiError) => void
  onUnauthorized?: (error: ApiError) => void
  /** Extra attempts after a network error or a temporary server refusal. */
  retries?: number
  backoffMs?: number
  maxBackoffMs?: number
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export interface ApiClient {
  request<T>(method: HttpMethod, path: string, options?: RequestOptions): Promise<T>
  get<T>(path: string, options?: RequestOptions): Promise<T>
  post<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>
  put<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>
  patch<T>(path: string, body?: unknown, options?: RequestOptions): Promise<T>
  delete<T>(path: string, options?: RequestOptions): Promise<T>
}

// A repeated PUT or DELETE lands in the same state; a repeated POST may not (a key rotated
// twice loses the key shown once), so a POST is sent again only when the server refused it.
const idempotent = new Set<HttpMethod>(['GET', 'HEAD', 'PUT', 'DELETE'])
const safe = new Set<HttpMethod>(['GET', 'HEAD'])
const retryAfterCapMs = 10_000

export function buildUrl(baseURL: string, path: string, query?: Query): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== '') {
        params.append(name, String(item))
      }
    }
  }
  const search = params.toString()
  return `${baseURL}${path}${search ? `?${search}` : ''}`
}

function encodeBody(body: unknown, headers: Record<string, string>): BodyInit | undefined {
  if (body === undefined) {
    return undefined
  }
  if (typeof body === 'string' || body instanceof FormData || body instanceof Blob) {
    return body
  }
  headers['content-type'] = 'application/json'
  return JSON.stringify(body)
}

async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204 || response.status === 205) {
    return undefined
  }
  const text = await response.text()
  if (!text) {
    return undefined
  }
  const type = response.headers.get('content-type') ?? ''
  if (type.includes('json')) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return text
}

function retryAfterMs(response: Response): number | null {
  const header = response.headers.get('retry-after')
  const seconds = header === null ? Number.NaN : Number(header)
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, retryAfterCapMs) : null
}

/** The one API client of the portal: same-origin, cookie session, CSRF, bounded retries. */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const baseURL = options.baseURL ?? ''
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const retries = options.retries ?? 3
  const backoffMs = options.backoffMs ?? 400
  const maxBackoffMs = options.maxBackoffMs ?? 5_000
  const timeoutMs = options.timeoutMs ?? 30_000
  const sleep = options.sleep ?? (ms => new Promise<void>(resolve => setTimeout(resolve, ms)))
  const random = options.random ?? Math.random

  function backoff(attempt: number): number {
    const ceiling = Math.min(maxBackoffMs, backoffMs * 2 ** attempt)
    return Math.round(ceiling / 2 + (random() * ceiling) / 2)
  }

  async function send(method: HttpMethod, url: string, request: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers }
    const token = options.csrfToken()
    if (!safe.has(method) && token) {
      headers['x-csrf-token'] = token
    }
    const body = encodeBody(request.body, headers)
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(), timeoutMs)
    const forwardAbort = () => timeout.abort()
    request.signal?.addEventListener('abort', forwardAbort)
    try {
      return await doFetch(url, {
        method,
        headers,
        body,
        credentials: 'same-origin',
        signal: timeout.signal
      })
    } catch (cause) {
      if (request.signal?.aborted) {
        throw cause
      }
      throw networkError(cause)
    } finally {
      clearTimeout(timer)
      request.signal?.removeEventListener('abort', forwardAbort)
    }
  }

  // One attempt: a response, or the delay before the next attempt, or a final error.
  async function attempt(method: HttpMethod, url: string, request: RequestOptions,
    tries: number): Promise<Response | number> {
    try {
      const response = await send(method, url, request)
      const declined = response.status === 503 && retryAfterMs(response) !== null
      const gatewayFailure = [502, 503, 504].includes(response.status) && idempotent.has(method)
      if ((declined || gatewayFailure) && tries < retries) {
        return retryAfterMs(response) ?? backoff(tries)
      }
      return response
    } catch (error) {
      const retriable = error instanceof ApiError && error.isNetworkError && idempotent.has(method)
      if (retriable && tries < retries) {
        return backoff(tries)
      }
      throw error
    }
  }

  async function respond(method: HttpMethod, url: string, request: RequestOptions): Promise<Response> {
    let csrfRefreshed = false
    for (let tries = 0; ; tries++) {
      const outcome = await attempt(method, url, request, tries)
      if (typeof outcome === 'number') {
        await sleep(outcome)
        continue
      }
      if (outcome.status === 403 && options.refreshCsrf && !csrfRefreshed) {
        const body = await readBody(outcome.clone())
        if (errorFromResponse(403, '', body).code === 'csrf_failed') {
          csrfRefreshed = true
          await options.refreshCsrf()
          tries--
          continue
        }
      }
      return outcome
    }
  }

  function report(error: ApiError, method: HttpMethod, request: RequestOptions): void {
    if (error.status === 401 && !request.authFlow) {
      options.onUnauthorized?.(error)
      return
    }
    if (request.notify ?? !safe.has(method)) {
      options.onError?.(error)
    }
  }

  async function request<T>(method: HttpMethod, path: string, request: RequestOptions = {}): Promise<T> {
    const url = buildUrl(baseURL, path, request.query)
    let response: Response
    try {
      response = await respond(method, url, request)
    } catch (error) {
      if (error instanceof ApiError) {
        report(error, method, request)
      }
      throw error
    }
    const body = await readBody(response)
    if (!response.ok) {
      const error = errorFromResponse(response.status, response.statusText, body)
      report(error, method, request)
      throw error
    }
    return body as T
  }

  return {
    request,
    get: (path, opts) => request('GET', path, opts),
    post: (path, body, opts) => request('POST', path, { ...opts, body }),
    put: (path, body, opts) => request('PUT', path, { ...opts, body }),
    patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
    delete: (path, opts) => request('DELETE', path, opts)
  }
}
