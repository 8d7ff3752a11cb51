import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h, nextTick, ref } from 'vue'
import { LiveConnection } from '~/utils/live-connection'
import type { LiveMessage, LiveSocket } from '~/utils/live-connection'
import { useLive } from '~/composables/useLive'

/** A socket the test opens, feeds and closes by hand. */
class FakeSocket implements LiveSocket {
  static made: FakeSocket[] = []
  readyState = 0
  sent: unknown[] = []
  closedWith: number | null = null
  onopen: ((event: Event) => void) | null = null
  onmessage: ((event: MessageEvent) => void) | null = null
  onclose: ((event: CloseEvent) => void) | null = null
  onerror: ((event: Event) => void) | null = null

  constructor(readonly url: string) {
    FakeSocket.made.push(this)
  }

  static last(): FakeSocket {
    return FakeSocket.made[FakeSocket.made.length - 1]!
  }

  send(data: string) {
    this.sent.push(JSON.parse(data))
  }

  close(code = 1000) {
    this.closedWith = code
    this.readyState = 3
  }

  serverOpens() {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }

  serverSends(message: unknown) {
    this.onmessage?.(new MessageEvent('message', { data: JSON.stringify(message) }))
  }

  serverCloses(code = 1006) {
    this.readyState = 3
    this.onclose?.({ code } as CloseEvent)
  }
}

function makeConnection(onMessage = vi.fn(), onUnauthorized = vi.fn()) {
  const connection = new LiveConnection({
    url: 'ws://portal.test/ws',
    onMessage,
    onUnauthorized,
    createSocket: url => new FakeSocket(url),
    random: () => 1,
    backoffMs: 1_000,
    maxBackoffMs: 8_000
  })
  return { connection, onMessage, onUnauthorized }
}

describe('LiveConnection', () => {
  beforeEach(() => {
    FakeSocket.made = []
    vi.useFakeTimers()
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  it('subscribes to its channels when the socket opens and hands messages on', () => {
    const { connection, onMessage } = makeConnection()
    connection.setChannels(['devices', 'events'])
    connection.open()
    FakeSocket.last().serverOpens()

    FakeSocket.last().serverSends({ type: 'device.updated', channel: 'devices', data: { id: 'd1' } })
    FakeSocket.last().serverSends({ type: 'point', channel: 'telemetry:other', data: {} })

    expect(FakeSocket.last().sent).toEqual([
      { type: 'subscribe', channel: 'devices' },
      { type: 'subscribe', channel: 'events' }
    ])
    expect(onMessage).toHaveBeenCalledOnce()
    expect(onMessage).toHaveBeenCalledWith({ type: 'device.updated', channel: 'devices', data: { id: 'd1' } })
  })

  it('reconnects after a drop with exponential backoff up to the cap, and resubscribes', () => {
    const { connection } = makeConnection()
    connection.setChannels(['alerts'])
    connection.open()
    FakeSocket.last().serverOpens()

    const gaps: number[] = []
    for (let drop = 0; drop < 5; drop++) {
      FakeSocket.last().serverCloses(1006)
      expect(connection.status).toBe('waiting')
      const socketsBefore = FakeSocket.made.length
      const droppedAt = Date.now()
      vi.advanceTimersToNextTimer()
      gaps.push(Date.now() - droppedAt)
      expect(FakeSocket.made.length).toBe(socketsBefore + 1)
    }
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000, 8_000])

    FakeSocket.last().serverOpens()
    expect(connection.status).toBe('open')
    expect(connection.failedAttempts).toBe(0)
    expect(FakeSocket.last().sent).toEqual([{ type: 'subscribe', channel: 'alerts' }])
  })

  it('does not reconnect after the server closes with 4401 (login expired)', () => {
    const { connection, onUnauthorized } = makeConnection()
    connection.open()
    FakeSocket.last().serverOpens()

    FakeSocket.last().serverCloses(4401)
    vi.advanceTimersByTime(60_000)

    expect(connection.status).toBe('unauthorized')
    expect(onUnauthorized).toHaveBeenCalledOnce()
    expect(FakeSocket.made).toHaveLength(1)
  })

  it('stays closed after close(), even with a reconnect pending', () => {
    const { connection } = makeConnection()
    connection.open()
    FakeSocket.last().serverCloses(1006)

    connection.close()
    vi.advanceTimersByTime(60_000)

    expect(connection.status).toBe('closed')
    expect(FakeSocket.made).toHaveLength(1)
  })

  it('keeps subscribe answers to itself and tells a reconnect from the first open', () => {
    const onOpen = vi.fn()
    const onMessage = vi.fn()
    const connection = new LiveConnection({
      url: 'ws://portal.test/ws',
      onMessage,
      onOpen,
      createSocket: url => new FakeSocket(url),
      random: () => 1
    })
    connection.setChannels(['events'])
    connection.open()
    FakeSocket.last().serverOpens()
    FakeSocket.last().serverSends({ type: 'subscribed', channel: 'events' })
    FakeSocket.last().serverSends({ type: 'error', code: 'permission_denied', channel: 'events' })
    FakeSocket.last().serverCloses(4008)
    vi.advanceTimersToNextTimer()
    FakeSocket.last().serverOpens()

    expect(onMessage).not.toHaveBeenCalled()
    expect(onOpen.mock.calls).toEqual([[false], [true]])
  })

  it('answers a ping and subscribes to channels added later', () => {
    const { connection, onMessage } = makeConnection()
    connection.open()
    FakeSocket.last().serverOpens()

    FakeSocket.last().serverSends({ type: 'ping' })
    connection.setChannels(['device:d1'])
    connection.setChannels([])

    expect(onMessage).not.toHaveBeenCalled()
    expect(FakeSocket.last().sent).toEqual([
      { type: 'pong' },
      { type: 'subscribe', channel: 'device:d1' },
      { type: 'unsubscribe', channel: 'device:d1' }
    ])
  })
})

describe('useLive', () => {
  beforeEach(() => {
    FakeSocket.made = []
    vi.useFakeTimers()
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  function mountWithLive(channels = ref(['events'])) {
    const received: LiveMessage[] = []
    let exposed: ReturnType<typeof useLive> | null = null
    const component = defineComponent({
      setup() {
        exposed = useLive({
          channels,
          onMessage: message => received.push(message),
          connection: { createSocket: url => new FakeSocket(url), random: () => 1 }
        })
        return () => h('div')
      }
    })
    const app = createApp(component)
    app.mount(document.createElement('div'))
    return { app, received, live: exposed! }
  }

  it('opens with the component, reconnects after a drop and closes on unmount', async () => {
    const { app, live } = mountWithLive()
    expect(FakeSocket.made).toHaveLength(1)
    expect(FakeSocket.last().url).toBe(`ws://${window.location.host}/ws`)

    FakeSocket.last().serverOpens()
    expect(live.connected.value).toBe(true)

    FakeSocket.last().serverCloses(1006)
    expect(live.connected.value).toBe(false)
    vi.advanceTimersByTime(1_000)
    expect(FakeSocket.made).toHaveLength(2)
    FakeSocket.last().serverOpens()
    expect(live.connected.value).toBe(true)

    app.unmount()
    await nextTick()
    expect(FakeSocket.last().closedWith).toBe(1000)
    vi.advanceTimersByTime(60_000)
    expect(FakeSocket.made).toHaveLength(2)
  })

  it('pauses while the tab is hidden and resumes when it is shown', async () => {
    const { app, live } = mountWithLive()
    FakeSocket.last().serverOpens()

    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
    document.dispatchEvent(new Event('visibilitychange'))
    await nextTick()
    expect(live.status.value).toBe('paused')
    expect(FakeSocket.last().closedWith).toBe(1000)

    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
    document.dispatchEvent(new Event('visibilitychange'))
    await nextTick()
    expect(FakeSocket.made).toHaveLength(2)
    expect(live.status.value).toBe('connecting')

    app.unmount()
  })
})
