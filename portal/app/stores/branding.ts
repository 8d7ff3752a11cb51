import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useApi } from '~/composables/useApi'
import type { Branding } from '~/types/models'

const defaults: Branding = { brand_name: 'EsoCore', product_name: 'EsoCore Cloud', admin_title: 'EsoCore Cloud' }

/** The names the server is configured to show (BRAND_NAME, PRODUCT_NAME, ADMIN_TITLE). */
export const useBrandingStore = defineStore('branding', () => {
  const api = useApi()
  const branding = ref<Branding>(defaults)
  const loaded = ref(false)

  const brandName = computed(() => branding.value.brand_name || defaults.brand_name)
  const productName = computed(() => branding.value.product_name || defaults.product_name)
  const adminTitle = computed(() => branding.value.admin_title || productName.value)

  /** Reads the branding once; an older server without the endpoint keeps the defaults. */
  async function load(): Promise<void> {
    if (loaded.value) {
      return
    }
    try {
      branding.value = { ...defaults, ...(await api.get<Branding>('/api/branding', { notify: false })) }
    } catch {
      // The defaults stand; the branding is cosmetic and must not block the portal.
    }
    loaded.value = true
  }

  return { branding, brandName, productName, adminTitle, load }
})
