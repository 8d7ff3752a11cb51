import { describe, expect, it, vi } from 'vitest'
import { createApiClient } from '~/utils/api-client'
import type { ApiClientOptions } from '~/utils/api-client'
import { ApiError, errorMessage } from '~/utils/api-error'

type Answer = Response | Error

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers }
  })
}

function errorBody(code: string, message: string, fields?: Record<string, string>) {
  return { error: { code, message, ...(fields ? { fields } : {}) } }
}

/** A fetch that hands out the given answers in order and records every call. */
function scriptedFetch(answers: Answer[]) {
  const calls: { url: string, init: RequestInit }[] = []
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} })
    const answer = answers.shift()
    if (!answer) {
      throw new Error('no more scripted answers')
    }
    if (answer instanceof Error) {
      throw answer
    }
    return answer
  })
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls }
}

function makeClient(answers: Answer[], overrides: Partial<ApiClientOptions> = {}) {
  const scripted = scriptedFetch(answers)
  const sleeps: number[] = []
  const onError = vi.fn()
  const onUnauthorized = vi.fn()
  const client = createApiClient({
    fetch: scripted.fetch,
    csrfToken: () => 'csrf-123',
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    random: () => 1,
    onError,
    onUnauthorized,
    ...overrides
  })
  return { client, calls: scripted.calls, sleeps, onError, onUnauthorized }
}

describe('createApiClient', () => {
  it('retries a GET after network errors with growing backoff, then answers', async () => {
    const { client, calls, sleeps } = makeClient([
      new TypeError('Failed to fetch'),
      new TypeError('Failed to fetch'),
      json(200, { results: [], next: null })
    ])

    const body = await client.get('/api/devices')

    expect(body).toEqual({ results: [], next: null })
    expect(calls).toHaveLength(3)
    expect(sleeps).toEqual([400, 800])
  })

  it('gives up after the bounded number of retries with a network error', async () => {
    const { client, calls, onError } = makeClient(
      Array.from({ length: 5 }, () => new TypeError('Failed to fetch')),
      { retries: 2 }
    )

    const failure = await client.get('/api/stats', { notify: true }).catch((error: unknown) => error)

    expect(failure).toBeInstanceOf(ApiError)
    expect((failure as ApiError).status).toBe(0)
    expect((failure as ApiError).code).toBe('network_error')
    expect(calls).toHaveLength(3)
    expect(onError).toHaveBeenCalledOnce()
  })

  it('does not retry a 4xx answer', async () => {
    const { client, calls, sleeps } = makeClient([
      json(400, errorBody('validation_failed', 'the request has invalid fields', { name: 'too long' })),
      json(200, {})
    ])

    await expect(client.get('/api/devices')).rejects.toMatchObject({
      status: 400,
      code: 'validation_failed'
    })
    expect(calls).toHaveLength(1)
    expect(sleeps).toEqual([])
  })

  it('does not send a POST again after a network error, since it may have been applied', async () => {
    const { client, calls } = makeClient([new TypeError('Failed to fetch'), json(200, {})])

    await expect(client.post('/api/devices/1/rotate-key', {})).rejects.toMatchObject({ status: 0 })
    expect(calls).toHaveLength(1)
  })

  it('sends a POST again when the server declined it with 503 and Retry-After', async () => {
    const { client, calls, sleeps } = makeClient([
      json(503, errorBody('busy', 'too many sign-ins at once; retry'), { 'retry-after': '1' }),
      json(200, { user: {}, csrf_token: 't' })
    ])

    await client.post('/api/auth/login', { email: 'a@b.c', password: 'x' })

    expect(calls).toHaveLength(2)
    expect(sleeps).toEqual([1000])
  })

  it('sends the CSRF token on changes but not on reads', async () => {
    const { client, calls } = makeClient([json(200, {}), json(200, {})])

    await client.get('/api/devices')
    await client.put('/api/devices/d1/configuration', { overrides: {} })

    const readHeaders = calls[0]!.init.headers as Record<string, string>
    const changeHeaders = calls[1]!.init.headers as Record<string, string>
    expect(readHeaders['x-csrf-token']).toBeUndefined()
    expect(changeHeaders['x-csrf-token']).toBe('csrf-123')
    expect(changeHeaders['content-type']).toBe('application/json')
    expect(calls[1]!.init.body).toBe('{"overrides":{}}')
    expect(calls[1]!.init.credentials).toBe('same-origin')
  })

  it('fetches a fresh CSRF token once after csrf_failed and sends the change again', async () => {
    let token = 'stale'
    const refreshCsrf = vi.fn(async () => {
      token = 'fresh'
    })
    const { client, calls } = makeClient([
      json(403, errorBody('csrf_failed', 'missing or wrong X-CSRF-Token header')),
      json(200, { ok: true })
    ], { csrfToken: () => token, refreshCsrf })

    await expect(client.post('/api/events/e1/acknowledge')).resolves.toEqual({ ok: true })
    expect(refreshCsrf).toHaveBeenCalledOnce()
    expect((calls[1]!.init.headers as Record<string, string>)['x-csrf-token']).toBe('fresh')
  })

  it('extracts the server message and fields and shows it for a failed change', async () => {
    const { client, onError } = makeClient([
      json(409, errorBody('device_claimed', 'the device is already claimed'))
    ])

    const failure = await client.post('/api/devices/d1/claim-code').catch((error: unknown) => error)

    expect(failure).toMatchObject({ status: 409, code: 'device_claimed', message: 'the device is already claimed' })
    expect(onError).toHaveBeenCalledWith(failure)
    expect(errorMessage(new ApiError(400, 'validation_failed', 'invalid', { 'overrides.window_s': 'must be at least 1' })))
      .toBe('Invalid (overrides.window_s: must be at least 1)')
  })

  it('falls back to a plain sentence when the answer has no error body', async () => {
    const { client } = makeClient([new Response('<html>gateway</html>', { status: 404 })])

    await expect(client.get('/api/stats')).rejects.toMatchObject({
      status: 404,
      code: 'http_404',
      message: 'Not found on this server'
    })
  })

  it('reports a 401 as an ended session, except during sign-in', async () => {
    const { client, onUnauthorized, onError } = makeClient([
      json(401, errorBody('not_authenticated', 'the session has ended; sign in again')),
      json(401, errorBody('totp_required', 'enter the code from your authenticator app'))
    ])

    await expect(client.get('/api/devices')).rejects.toMatchObject({ status: 401 })
    await expect(client.post('/api/auth/login', {}, { authFlow: true, notify: false }))
      .rejects.toMatchObject({ code: 'totp_required' })

    expect(onUnauthorized).toHaveBeenCalledOnce()
    expect(onError).not.toHaveBeenCalled()
  })

  it('leaves out empty query values and repeats arrays', async () => {
    const { client, calls } = makeClient([json(200, {})])

    await client.get('/api/devices', { query: { search: '', status: 'active', tag: ['a', 'b'], cursor: null } })

    expect(calls[0]!.url).toBe('/api/devices?status=active&tag=a&tag=b')
  })
})
