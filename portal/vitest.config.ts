import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Unit tests run the portal's plain TypeScript (the API client, stores, composables) without
// booting Nuxt; modules that need the Nuxt app are replaced with vi.mock in each test.
export default defineConfig({
  resolve: {
    alias: {
      '~': fileURLToPath(new URL('./app', import.meta.url))
    }
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/unit/**/*.test.ts'],
    restoreMocks: true
  }
})
