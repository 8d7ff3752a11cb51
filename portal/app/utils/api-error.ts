/**
 * An API call that failed: a status and the server's error body
 * `{"error": {"code", "message", "fields"}}`, or status 0 when the server could not be reached.
 */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string>

  constructor(status: number, code: string, message: string, fields: Record<string, string> = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
  }

  get isNetworkError(): boolean {
    return this.status === 0
  }
}

const statusWords: Record<number, string> = {
  400: 'The request was not accepted',
  401: 'Please sign in',
  403: 'You are not allowed to do this',
  404: 'Not found on this server',
  409: 'This conflicts with the current state',
  413: 'The request is too large',
  429: 'Too many requests; try again shortly',
  500: 'The server failed to answer',
  502: 'The server is unreachable behind its proxy',
  503: 'The server is busy or in maintenance',
  504: 'The server took too long to answer'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function stringFields(value: unknown): Record<string, string> {
  if (!isRecord(value)) {
    return {}
  }
  const fields: Record<string, string> = {}
  for (const [name, text] of Object.entries(value)) {
    if (typeof text === 'string') {
      fields[name] = text
    }
  }
  return fields
}

/** Builds the ApiError for a response whose status is not 2xx, from its parsed body if any. */
export function errorFromResponse(status: number, statusText: string, body: unknown): ApiError {
  const error = isRecord(body) && isRecord(body.error) ? body.error : null
  const code = error && typeof error.code === 'string' ? error.code : `http_${status}`
  const fallback = statusWords[status] ?? (statusText || `The server answered ${status}`)
  const message = error && typeof error.message === 'string' && error.message
    ? error.message
    : fallback
  return new ApiError(status, code, message, stringFields(error?.fields))
}

export function networkError(cause: unknown): ApiError {
  const error = new ApiError(0, 'network_error', 'The server cannot be reached. Check the connection.')
  error.cause = cause
  return error
}

function sentence(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text
}

/** The sentence to show a person for any thrown value; the server's own words for an ApiError. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) {
    const details = Object.entries(error.fields).map(([name, text]) => `${name}: ${text}`)
    return sentence(details.length ? `${error.message} (${details.join('; ')})` : error.message)
  }
  if (error instanceof Error && error.message) {
    return sentence(error.message)
  }
  return 'Something went wrong'
}

/** True for the 404 of an endpoint (or object) that this server does not have. */
export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404
}
