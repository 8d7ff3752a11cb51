/**
 * A socket to the server's /ws endpoint (DESIGN §6): subscribes to channels, hands pushed
 * messages on, and reconnects with capped exponential backoff and jitter until it is closed.
 * Kept free of Vue so that its reconnect rules can be tested with a fake socket and timers.
 */

export type LiveStatus = 'idle' | 'connecting' | 'open' | 'waiting' | 'paused' | 'closed'
  | 'unauthorized'

export interface LiveMessage {
  type: string
  channel?: string
  data?: unknown
}

/** The part of the browser's WebSocket that the connection uses. */
export interface LiveSocket {
  readonly readyState: number
  onopen: ((event: Event) => void) | null
  onmessage: ((event: MessageEvent) => void) | null
  onclose: ((event: CloseEvent) => void) | null
  onerror: ((event: Event) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export interface LiveConnectionOptions {
  url: string
  onMessage: (message: LiveMessage) => void
  /** Called each time a socket opens; `reconnected` when messages may have been missed. */
  onOpen?: (reconnected: boolean) => void
  onStatus?: (status: LiveStatus) => void
  /** Called when the server closes with 4401: the login expired, so no reconnect. */
  onUnauthorized?: () => void
  createSocket?: (url: string) => LiveSocket
  backoffMs?: number
  maxBackoffMs?: number
  random?: () => number
  setTimer?: (callback: () => void, ms: number) => unknown
  clearTimer?: (timer: unknown) => void
}

const openState = 1
const controlTypes = new Set(['subscribed', 'unsubscribed', 'error'])
export const expiredLoginCode = 4401

export class LiveConnection {
  private socket: LiveSocket | null = null
  private timer: unknown = null
  private channels = new Set<string>()
  private failures = 0
  private opened = false
  private state: LiveStatus = 'idle'
  private readonly options: Required<Omit<LiveConnectionOptions, 'onStatus' | 'onUnauthorized' | 'onOpen'>>
    & LiveConnectionOptions

  constructor(options: LiveConnectionOptions) {
    this.options = {
      createSocket: url => new WebSocket(url) as LiveSocket,
      backoffMs: 1_000,
      maxBackoffMs: 30_000,
      random: Math.random,
      setTimer: (callback, ms) => setTimeout(callback, ms),
      clearTimer: timer => clearTimeout(timer as ReturnType<typeof setTimeout>),
      ...options
    }
  }

  get status(): LiveStatus {
    return this.state
  }

  /** Consecutive failed connections since the last open socket. */
  get failedAttempts(): number {
    return this.failures
  }

  open(): void {
    if (this.state === 'idle' || this.state === 'closed' || this.state === 'paused') {
      this.connect()
    }
  }

  /** Closes the socket for now (a hidden tab); resume() reconnects at once. */
  pause(): void {
    if (this.state === 'closed' || this.state === 'unauthorized' || this.state === 'idle') {
      return
    }
    this.stop('paused')
  }

  resume(): void {
    if (this.state === 'paused' || this.state === 'waiting') {
      this.failures = 0
      this.connect()
    }
  }

  close(): void {
    this.stop('closed')
  }

  /** Subscribes to new channels and unsubscribes from dropped ones on the open socket. */
  setChannels(channels: Iterable<string>): void {
    const wanted = new Set(channels)
    for (const channel of this.channels) {
      if (!wanted.has(channel)) {
        this.sendJson({ type: 'unsubscribe', channel })
      }
    }
    for (const channel of wanted) {
      if (!this.channels.has(channel)) {
        this.sendJson({ type: 'subscribe', channel })
      }
    }
    this.channels = wanted
  }

  private setStatus(status: LiveStatus): void {
    if (this.state !== status) {
      this.state = status
      this.options.onStatus?.(status)
    }
  }

  private connect(): void {
    this.cancelTimer()
    this.setStatus('connecting')
    let socket: LiveSocket
    try {
      socket = this.options.createSocket(this.options.url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.socket = socket
    socket.onopen = () => this.handleOpen(socket)
    socket.onmessage = event => this.handleMessage(socket, event)
    socket.onclose = event => this.handleClose(socket, event.code)
    socket.onerror = () => {
      // A close event always follows an error; reconnecting is decided there.
    }
  }

  private handleOpen(socket: LiveSocket): void {
    if (socket !== this.socket) {
      return
    }
    this.failures = 0
    this.setStatus('open')
    for (const channel of this.channels) {
      this.sendJson({ type: 'subscribe', channel })
    }
    this.options.onOpen?.(this.opened)
    this.opened = true
  }

  private handleMessage(socket: LiveSocket, event: MessageEvent): void {
    if (socket !== this.socket || typeof event.data !== 'string') {
      return
    }
    let message: unknown
    try {
      message = JSON.parse(event.data)
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null || !('type' in message)) {
      return
    }
    const live = message as LiveMessage
    if (live.type === 'ping') {
      this.sendJson({ type: 'pong' })
      return
    }
    // Answers to subscribe and unsubscribe; a refused channel simply delivers nothing.
    if (controlTypes.has(live.type)) {
      return
    }
    if (live.channel === undefined || this.channels.has(live.channel)) {
      this.options.onMessage(live)
    }
  }

  private handleClose(socket: LiveSocket, code: number): void {
    if (socket !== this.socket) {
      return
    }
    this.socket = null
    if (code === expiredLoginCode) {
      this.setStatus('unauthorized')
      this.options.onUnauthorized?.()
      return
    }
    this.failures++
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    const ceiling = Math.min(this.options.maxBackoffMs,
      this.options.backoffMs * 2 ** Math.max(0, this.failures - 1))
    const delay = Math.round(ceiling / 2 + (this.options.random() * ceiling) / 2)
    this.setStatus('waiting')
    this.timer = this.options.setTimer(() => {
      this.timer = null
      this.connect()
    }, delay)
  }

  private stop(status: LiveStatus): void {
    this.cancelTimer()
    const socket = this.socket
    this.socket = null
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null
      socket.close(1000, status)
    }
    this.setStatus(status)
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      this.options.clearTimer(this.timer)
      this.timer = null
    }
  }

  private sendJson(message: Record<string, string>): void {
    if (this.socket && this.socket.readyState === openState) {
      this.socket.send(JSON.stringify(message))
    }
  }
}

/** The /ws URL of the server that served the page. */
export function liveUrl(location: { protocol: string, host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
}
