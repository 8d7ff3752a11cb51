import { computed, ref, shallowRef, watch } from 'vue'
import type { WatchSource } from 'vue'

/**
 * One value read from the API: `loading` only until the first answer (later refreshes keep
 * showing the last data), `error` of the latest attempt, and `refresh` for polling. An answer
 * that arrives after a newer request started is dropped.
 */
export function useApiData<T>(fetcher: () => Promise<T>,
  options: { watch?: WatchSource[], immediate?: boolean } = {}) {
  const data = shallowRef<T | null>(null)
  const error = shallowRef<unknown>(null)
  const pending = ref(false)
  let generation = 0

  async function refresh(): Promise<void> {
    const mine = ++generation
    pending.value = true
    try {
      const value = await fetcher()
      if (mine === generation) {
        data.value = value
        error.value = null
      }
    } catch (failure) {
      if (mine === generation) {
        error.value = failure
      }
    } finally {
      if (mine === generation) {
        pending.value = false
      }
    }
  }

  const loading = computed(() => pending.value && data.value === null && error.value === null)

  if (options.watch?.length) {
    watch(options.watch, () => void refresh())
  }
  if (options.immediate ?? true) {
    void refresh()
  }

  return { data, error, pending, loading, refresh }
}
