import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useApi } from '~/composables/useApi'
import { ApiError } from '~/utils/api-error'
import { minimumRole, roleRank } from '~/utils/permissions'
import type { PortalAction } from '~/utils/permissions'
import type { AuthMe, AuthMembership, AuthSession, AuthUser, Role, SignInRequest } from '~/types/models'

export type SignInStep = 'signed-in' | 'second-factor'

/** Error codes of POST /api/auth/login that ask for the second factor (server: sign_in.cpp). */
const secondFactorCodes = new Set(['totp_required'])

/** Who is signed in, their memberships and the session's CSRF token. */
export const useAuthStore = defineStore('auth', () => {
  const api = useApi()

  const user = ref<AuthUser | null>(null)
  const memberships = ref<AuthMembership[]>([])
  const csrfToken = ref<string | null>(null)
  /** Whether GET /api/auth/me has answered once, so the router knows whom it serves. */
  const checked = ref(false)

  const signedIn = computed(() => user.value !== null)

  /** The highest role of any membership (staff count as owner). */
  const topRole = computed<Role | null>(() => {
    if (user.value?.is_staff) {
      return 'owner'
    }
    let best: Role | null = null
    for (const membership of memberships.value) {
      if (best === null || roleRank[membership.role] > roleRank[best]) {
        best = membership.role
      }
    }
    return best
  })

  /** True when some membership has at least `role`; the server still decides each request. */
  function can(role: Role): boolean {
    return topRole.value !== null && roleRank[topRole.value] >= roleRank[role]
  }

  /** Whether to offer an action; the server still checks the membership's scope. */
  function allows(action: PortalAction): boolean {
    return can(minimumRole[action])
  }

  function apply(me: AuthMe): void {
    user.value = me.user
    memberships.value = me.memberships
    if (me.csrf_token) {
      csrfToken.value = me.csrf_token
    }
  }

  function forget(): void {
    user.value = null
    memberships.value = []
    csrfToken.value = null
    checked.value = true
  }

  /** Asks the server who the session belongs to; false when nobody is signed in. */
  async function load(): Promise<boolean> {
    try {
      apply(await api.get<AuthMe>('/api/auth/me', { authFlow: true }))
      checked.value = true
      return true
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        forget()
        return false
      }
      throw error
    }
  }

  /**
   * Signs in with a password, then with the TOTP or a recovery code when the account has a
   * second factor. Other failures are thrown for the form to show.
   */
  async function signIn(credentials: SignInRequest): Promise<SignInStep> {
    let session: AuthSession
    try {
      session = await api.post<AuthSession>('/api/auth/login', { ...credentials, mode: 'session' },
        { authFlow: true, notify: false })
    } catch (error) {
      if (error instanceof ApiError && secondFactorCodes.has(error.code)) {
        return 'second-factor'
      }
      throw error
    }
    user.value = session.user
    csrfToken.value = session.csrf_token
    checked.value = true
    await load()
    return 'signed-in'
  }

  async function signOut(): Promise<void> {
    try {
      await api.post<undefined>('/api/auth/logout', undefined, { authFlow: true, notify: false })
    } catch (error) {
      // An ended session is already signed out; anything else is worth telling.
      if (!(error instanceof ApiError && error.status === 401)) {
        throw error
      }
    } finally {
      forget()
    }
  }

  return { user, memberships, csrfToken, checked, signedIn, topRole, can, allows, load, forget, signIn, signOut }
})
