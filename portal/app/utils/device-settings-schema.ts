import { z } from 'zod'
import type { DeviceSettings } from '~/types/models'

const whole = (min: number, max?: number) => {
  const base = z.number().int('must be a whole number').min(min, `must be at least ${min}`)
  return max === undefined ? base : base.max(max, `must be at most ${max}`)
}

/**
 * The device settings of the OpenAPI document (DeviceSettings), checked in the browser before
 * the overrides are sent; the server checks them again and names problems `overrides.<key>`.
 */
export const deviceSettingsSchema = z.strictObject({
  upload_interval_s: whole(1, 86_400).optional(),
  batch_max_records: whole(1).optional(),
  offline_timeout_s: whole(10, 2_592_000).optional(),
  signing_required: z.boolean().optional(),
  restamp_future: z.boolean().optional(),
  sampling_ms: z.record(z.string(), whole(10, 86_400_000)).optional(),
  window_s: whole(1, 86_400).optional(),
  thresholds: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  ntp_servers: z.array(z.string().min(1)).min(1).max(8).optional(),
  endpoints: z.strictObject({
    batch: z.string().optional(),
    config: z.string().optional(),
    heartbeat: z.string().optional(),
    ota_check: z.string().optional()
  }).optional()
}) satisfies z.ZodType<DeviceSettings>

export type ParsedSettings = { ok: true, settings: DeviceSettings } | { ok: false, problems: string[] }

/** Parses the editor's JSON text into settings, or the problems to show next to it. */
export function parseSettings(text: string): ParsedSettings {
  let value: unknown
  try {
    value = JSON.parse(text.trim() || '{}')
  } catch (error) {
    return { ok: false, problems: [`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`] }
  }
  const result = deviceSettingsSchema.safeParse(value)
  if (!result.success) {
    return {
      ok: false,
      problems: result.error.issues.map(issue => `${issue.path.join('.') || 'settings'}: ${issue.message}`)
    }
  }
  return { ok: true, settings: result.data }
}
