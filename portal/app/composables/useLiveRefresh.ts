import { useThrottleFn } from '@vueuse/core'
import type { MaybeRefOrGetter } from 'vue'
import { useLive } from './useLive'
import { usePolling } from './usePolling'

/**
 * Keeps a page current: a message on any of `channels` refreshes it (at most once a second),
 * a reconnect refreshes it (messages were missed), and while the socket is not connected the
 * page polls every 10 seconds instead.
 */
export function useLiveRefresh(channels: MaybeRefOrGetter<string[]>, refresh: () => unknown) {
  const throttled = useThrottleFn(() => refresh(), 1_000, true)
  const live = useLive({
    channels,
    onMessage: () => void throttled(),
    onReconnect: () => void refresh()
  })
  usePolling(refresh, { paused: live.connected })
  return live
}
