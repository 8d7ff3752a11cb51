import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError } from '~/utils/api-error'
import type { AuthMe, AuthUser } from '~/types/models'

const api = {
  get: vi.fn(),
  post: vi.fn()
}

vi.mock('~/composables/useApi', () => ({ useApi: () => api }))

const { useAuthStore } = await import('~/stores/auth')

function makeUser(overrides: Partial<AuthUser> = {}): AuthUser {
  return {
    id: '7f1f8a53-5b8e-4a55-9a43-2a4a1f4d0001',
    email: 'ops@example.com',
    name: 'Olga Operator',
    is_staff: false,
    time_zone: 'Europe/Berlin',
    totp_enabled: false,
    ...overrides
  }
}

function makeMe(overrides: Partial<AuthMe> = {}): AuthMe {
  return {
    user: makeUser(),
    memberships: [{
      id: 'm1',
      organization_id: 'o1',
      role: 'operator',
      scope: 'organization',
      site_id: null,
      device_id: null
    }],
    csrf_token: 'csrf-from-me',
    ...overrides
  }
}

describe('useAuthStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    api.get.mockReset()
    api.post.mockReset()
  })

  it('signs in, keeps the CSRF token and loads the memberships', async () => {
    api.post.mockResolvedValueOnce({ user: makeUser(), csrf_token: 'csrf-from-login' })
    api.get.mockResolvedValueOnce(makeMe({ csrf_token: 'csrf-from-login' }))
    const auth = useAuthStore()

    const step = await auth.signIn({ email: 'ops@example.com', password: 'correct horse' })

    expect(step).toBe('signed-in')
    expect(api.post).toHaveBeenCalledWith('/api/auth/login',
      { email: 'ops@example.com', password: 'correct horse', mode: 'session' },
      { authFlow: true, notify: false })
    expect(auth.signedIn).toBe(true)
    expect(auth.csrfToken).toBe('csrf-from-login')
    expect(auth.topRole).toBe('operator')
    expect(auth.can('technician')).toBe(true)
    expect(auth.can('admin')).toBe(false)
  })

  it('asks for the second factor when the server answers totp_required', async () => {
    api.post.mockRejectedValueOnce(new ApiError(401, 'totp_required', 'enter the code from your authenticator app'))
    const auth = useAuthStore()

    const step = await auth.signIn({ email: 'ops@example.com', password: 'correct horse' })

    expect(step).toBe('second-factor')
    expect(auth.signedIn).toBe(false)
  })

  it('sends the TOTP code with the password in the second step', async () => {
    api.post.mockResolvedValueOnce({ user: makeUser({ totp_enabled: true }), csrf_token: 'c' })
    api.get.mockResolvedValueOnce(makeMe())
    const auth = useAuthStore()

    await auth.signIn({ email: 'ops@example.com', password: 'pw', totp_code: '123456' })

    expect(api.post.mock.calls[0]![1]).toMatchObject({ totp_code: '123456' })
  })

  it('throws other sign-in failures for the form to show', async () => {
    api.post.mockRejectedValueOnce(new ApiError(401, 'invalid_credentials', 'wrong email or password'))
    const auth = useAuthStore()

    await expect(auth.signIn({ email: 'ops@example.com', password: 'nope' }))
      .rejects.toMatchObject({ message: 'wrong email or password' })
    expect(auth.signedIn).toBe(false)
  })

  it('load() answers false and forgets the user when the session has ended', async () => {
    api.get.mockRejectedValueOnce(new ApiError(401, 'not_authenticated', 'sign in again'))
    const auth = useAuthStore()

    await expect(auth.load()).resolves.toBe(false)
    expect(auth.checked).toBe(true)
    expect(auth.user).toBeNull()
  })

  it('load() passes on failures other than 401', async () => {
    api.get.mockRejectedValueOnce(new ApiError(0, 'network_error', 'unreachable'))
    const auth = useAuthStore()

    await expect(auth.load()).rejects.toMatchObject({ code: 'network_error' })
    expect(auth.checked).toBe(false)
  })

  it('signs out and forgets the session even when it had already ended', async () => {
    api.post.mockResolvedValueOnce({ user: makeUser(), csrf_token: 'c' })
    api.get.mockResolvedValueOnce(makeMe())
    api.post.mockRejectedValueOnce(new ApiError(401, 'not_authenticated', 'ended'))
    const auth = useAuthStore()
    await auth.signIn({ email: 'ops@example.com', password: 'pw' })

    await auth.signOut()

    expect(auth.signedIn).toBe(false)
    expect(auth.csrfToken).toBeNull()
  })

  it('treats platform staff as owners', async () => {
    api.get.mockResolvedValueOnce(makeMe({ user: makeUser({ is_staff: true }), memberships: [] }))
    const auth = useAuthStore()

    await auth.load()

    expect(auth.topRole).toBe('owner')
  })
})
