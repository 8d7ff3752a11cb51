import { z } from 'zod'

export const passwordStepSchema = z.object({
  email: z.string().trim().min(1, 'Enter your email address').email('Enter a valid email address'),
  password: z.string().min(1, 'Enter your password')
})
export type PasswordStep = z.output<typeof passwordStepSchema>

export const totpSchema = z.object({
  totp_code: z.string().regex(/^\d{6}$/, 'Enter the 6 digits from your authenticator app')
})

export const recoverySchema = z.object({
  recovery_code: z.string().trim().min(6, 'Enter one of your recovery codes')
})

export interface SecondFactor {
  totp_code?: string
  recovery_code?: string
}
