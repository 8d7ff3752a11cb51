import { computed, onBeforeUnmount, onMounted, ref, toValue, watch } from 'vue'
import type { MaybeRefOrGetter } from 'vue'
import { useDocumentVisibility, useOnline } from '@vueuse/core'
import { LiveConnection, liveUrl } from '~/utils/live-connection'
import type { LiveConnectionOptions, LiveMessage, LiveStatus } from '~/utils/live-connection'

export interface UseLiveOptions {
  /** Channels of DESIGN §6: `devices`, `device:<id>`, `telemetry:<device>[:<metric>]`, `events`, `alerts`. */
  channels: MaybeRefOrGetter<string[]>
  onMessage: (message: LiveMessage) => void
  /** Called when a socket opens again after a drop: what was pushed meanwhile is lost. */
  onReconnect?: () => void
  onUnauthorized?: () => void
  /** For tests: how sockets are made and where they connect. */
  connection?: Partial<LiveConnectionOptions>
}

/**
 * Live updates for one component: the socket opens when the component mounts, pauses while the
 * tab is hidden or the machine is offline, resumes when it is back, and closes on unmount.
 * `connected` tells pages when they must poll instead.
 */
export function useLive(options: UseLiveOptions) {
  const status = ref<LiveStatus>('idle')
  const connected = computed(() => status.value === 'open')
  const visibility = useDocumentVisibility()
  const online = useOnline()

  const connection = new LiveConnection({
    // Server-side rendering never mounts, so it never connects.
    url: typeof window === 'undefined' ? '' : liveUrl(window.location),
    onMessage: options.onMessage,
    onStatus: next => (status.value = next),
    onUnauthorized: options.onUnauthorized,
    onOpen: (reconnected) => {
      if (reconnected) {
        options.onReconnect?.()
      }
    },
    ...options.connection
  })

  onMounted(() => {
    connection.setChannels(toValue(options.channels))
    if (visibility.value !== 'hidden' && online.value) {
      connection.open()
    }
  })

  watch(() => toValue(options.channels), channels => connection.setChannels(channels))

  watch([visibility, online], ([shown, isOnline]) => {
    if (shown === 'hidden' || !isOnline) {
      connection.pause()
    } else if (connection.status === 'idle') {
      connection.open()
    } else {
      connection.resume()
    }
  })

  onBeforeUnmount(() => connection.close())

  return { status, connected }
}
