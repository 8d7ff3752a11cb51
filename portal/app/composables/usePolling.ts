import { onBeforeUnmount, onMounted, toValue, watch } from 'vue'
import type { MaybeRefOrGetter } from 'vue'
import { useDocumentVisibility, useIntervalFn } from '@vueuse/core'

export const defaultPollMs = 10_000

/**
 * Calls `refresh` every `intervalMs` while the tab is visible and `paused` is false (for
 * example while live updates arrive over /ws), and once more whenever the tab is shown again.
 */
export function usePolling(refresh: () => unknown,
  options: { intervalMs?: number, paused?: MaybeRefOrGetter<boolean> } = {}) {
  const visibility = useDocumentVisibility()
  const interval = useIntervalFn(() => {
    void refresh()
  }, options.intervalMs ?? defaultPollMs, { immediate: false })

  function update() {
    const wanted = visibility.value !== 'hidden' && !toValue(options.paused ?? false)
    if (wanted && !interval.isActive.value) {
      interval.resume()
    } else if (!wanted && interval.isActive.value) {
      interval.pause()
    }
  }

  onMounted(update)
  watch(() => toValue(options.paused ?? false), update)
  watch(visibility, (shown, before) => {
    if (shown === 'visible' && before === 'hidden') {
      void refresh()
    }
    update()
  })
  onBeforeUnmount(() => interval.pause())

  return interval
}
