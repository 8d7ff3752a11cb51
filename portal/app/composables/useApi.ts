import { useNuxtApp } from '#app'
import type { ApiClient } from '~/utils/api-client'

/** The portal's one API client (made by plugins/api.ts). */
export function useApi(): ApiClient {
  return useNuxtApp().$api
}
