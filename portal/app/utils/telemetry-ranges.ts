/** The time ranges a chart offers, each with a bucket width the server knows (1m … 1d). */
export interface TelemetryRange {
  value: string
  label: string
  seconds: number
  interval: string
}

export const telemetryRanges: TelemetryRange[] = [
  { value: '1h', label: 'Last hour', seconds: 3_600, interval: '1m' },
  { value: '6h', label: 'Last 6 hours', seconds: 6 * 3_600, interval: '5m' },
  { value: '24h', label: 'Last 24 hours', seconds: 86_400, interval: '15m' },
  { value: '7d', label: 'Last 7 days', seconds: 7 * 86_400, interval: '1h' },
  { value: '30d', label: 'Last 30 days', seconds: 30 * 86_400, interval: '6h' }
]

export const aggregates = ['avg', 'min', 'max', 'sum', 'count', 'first', 'last'] as const
export type Aggregate = (typeof aggregates)[number]

/** A bucket's start as an axis label: the time of day for short ranges, the date for long. */
export function bucketLabel(iso: string, range: TelemetryRange, timeZone?: string): string {
  const date = new Date(iso)
  const options: Intl.DateTimeFormatOptions = range.seconds > 86_400
    ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' }
  return new Intl.DateTimeFormat(undefined, { ...options, timeZone: timeZone || undefined }).format(date)
}
