/** Dates, durations and numbers as a person reads them, in their time zone. */

export function formatDateTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) {
    return '—'
  }
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) {
    return iso
  }
  return new Intl.DateTimeFormat(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: timeZone || undefined
  }).format(date)
}

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['week', 7 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1]
]

/** "3 minutes ago", "in 2 hours"; "never" for a missing time. */
export function timeAgo(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) {
    return 'never'
  }
  const at = new Date(iso).getTime()
  if (Number.isNaN(at)) {
    return iso
  }
  const seconds = Math.round((at - now) / 1000)
  if (Math.abs(seconds) < 10) {
    return 'just now'
  }
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) {
      return format.format(Math.round(seconds / size), unit)
    }
  }
  return format.format(seconds, 'second')
}

export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '—'
  }
  return new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(value)
}

/** "1 h 5 min" from seconds. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) {
    return '—'
  }
  const parts: string[] = []
  let rest = Math.round(seconds)
  for (const [label, size] of [['d', 86_400], ['h', 3_600], ['min', 60]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${label}`)
      rest %= size
    }
  }
  if (rest || !parts.length) {
    parts.push(`${rest} s`)
  }
  return parts.slice(0, 2).join(' ')
}

const acronyms = new Set(['sd', 'ota', 'ntp', 'rms', 'id', 'cpu', 'rh', 'ac', 'dc'])

/** "sd_error" → "SD error": a machine name as a label. */
export function titleCase(name: string): string {
  const words = name.split('_').filter(Boolean).map(word => (acronyms.has(word) ? word.toUpperCase() : word))
  const text = words.join(' ')
  return text ? text[0]!.toUpperCase() + text.slice(1) : text
}
