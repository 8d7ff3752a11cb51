import { useAuthStore } from '~/stores/auth'

/** Pages are for signed-in people, except those marked `public` (the sign-in page). */
export default defineNuxtRouteMiddleware(async (to) => {
  const auth = useAuthStore()
  if (!auth.checked) {
    try {
      await auth.load()
    } catch {
      // The server cannot be reached: the sign-in page says so when it tries.
      auth.forget()
    }
  }
  if (to.meta.public) {
    if (auth.signedIn && to.path === '/sign-in') {
      return navigateTo(safeRedirect(to.query.redirect))
    }
    return
  }
  if (!auth.signedIn) {
    return navigateTo({ path: '/sign-in', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } })
  }
})
