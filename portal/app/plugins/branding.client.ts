import { useBrandingStore } from '~/stores/branding'

export default defineNuxtPlugin({
  name: 'branding',
  dependsOn: ['api'],
  async setup() {
    await useBrandingStore().load()
  }
})
