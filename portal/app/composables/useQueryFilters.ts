import { reactive, watch } from 'vue'
import { useRoute, useRouter } from '#app'

/**
 * Filters kept in the page's query string, so that a filtered list can be linked to and
 * survives a reload. Values equal to their default are left out of the URL.
 */
export function useQueryFilters<T extends Record<string, string>>(defaults: T): T {
  const route = useRoute()
  const router = useRouter()

  const initial = { ...defaults }
  for (const key of Object.keys(defaults) as (keyof T & string)[]) {
    const value = route.query[key]
    if (typeof value === 'string') {
      initial[key] = value as T[typeof key]
    }
  }
  const filters = reactive(initial) as T

  watch(filters, (current) => {
    const query: Record<string, string> = {}
    for (const [key, value] of Object.entries(current)) {
      // An empty value that differs from the default stays (`?status=`), so "any" survives a reload.
      if (value !== defaults[key]) {
        query[key] = value
      }
    }
    void router.replace({ query })
  }, { deep: true })

  return filters
}
