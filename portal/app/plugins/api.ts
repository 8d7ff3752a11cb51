import { createApiClient } from '~/utils/api-client'
import { useAuthStore } from '~/stores/auth'

/**
 * Provides `$api`: same origin, the session cookie, the session's CSRF token on changes,
 * failures shown as toasts, and a 401 sends the person to the sign-in page.
 */
export default defineNuxtPlugin({
  name: 'api',
  dependsOn: ['pinia'],
  setup(nuxtApp) {
    const toast = useToast()
    const router = useRouter()
    let auth: ReturnType<typeof useAuthStore> | null = null
    const authStore = () => (auth ??= useAuthStore(nuxtApp.$pinia as Parameters<typeof useAuthStore>[0]))

    const api = createApiClient({
      csrfToken: () => authStore().csrfToken,
      refreshCsrf: async () => {
        await authStore().load()
      },
      onError: (error) => {
        toast.add({
          title: error.isNetworkError ? 'No connection' : 'The server refused',
          description: errorMessage(error),
          color: 'error',
          icon: 'i-lucide-circle-alert'
        })
      },
      onUnauthorized: () => {
        authStore().forget()
        const current = router.currentRoute.value
        if (current.path !== '/sign-in') {
          void router.push({ path: '/sign-in', query: { redirect: current.fullPath } })
        }
      }
    })

    return { provide: { api } }
  }
})
