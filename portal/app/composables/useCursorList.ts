import { computed, ref, watch } from 'vue'
import type { WatchSource } from 'vue'
import { useApiData } from './useApiData'

export interface CursorPage<T> {
  results: T[]
  next: string | null
}

/**
 * A list read page by page with the server's `next` cursor. The cursors of earlier pages are
 * kept so that "previous" works; any change of the watched filters starts again at page one.
 */
export function useCursorList<T>(fetchPage: (cursor: string | null) => Promise<CursorPage<T>>,
  options: { watch?: WatchSource[] } = {}) {
  const cursors = ref<(string | null)[]>([null])
  const page = computed(() => cursors.value.length)

  const list = useApiData(() => fetchPage(cursors.value[cursors.value.length - 1] ?? null), {
    watch: [() => cursors.value.length]
  })

  const rows = computed<T[]>(() => list.data.value?.results ?? [])
  const hasNext = computed(() => Boolean(list.data.value?.next))
  const hasPrevious = computed(() => cursors.value.length > 1)

  function nextPage() {
    const next = list.data.value?.next
    if (next) {
      cursors.value = [...cursors.value, next]
    }
  }

  function previousPage() {
    if (cursors.value.length > 1) {
      cursors.value = cursors.value.slice(0, -1)
    }
  }

  function firstPage() {
    if (cursors.value.length > 1) {
      cursors.value = [null]
    } else {
      void list.refresh()
    }
  }

  if (options.watch?.length) {
    watch(options.watch, firstPage)
  }

  return { ...list, rows, page, hasNext, hasPrevious, nextPage, previousPage, firstPage }
}
