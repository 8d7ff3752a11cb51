// The portal is built two ways: `nuxt generate` makes the static files the C++ server serves
// (a single-page app, ESOCORE_PORTAL_SSR unset), and `nuxt build` with ESOCORE_PORTAL_SSR=1
// makes the server-side-rendering build. Nothing may be fetched from the internet at build or
// run time: icons come from @iconify-json/lucide, fonts are the system's.
const ssr = process.env.ESOCORE_PORTAL_SSR === '1'

export default defineNuxtConfig({
  modules: ['@nuxt/eslint', '@nuxt/ui', '@pinia/nuxt', '@vueuse/nuxt'],

  ssr,

  // Components are named by their file alone: components/devices/DeviceTable.vue is DeviceTable.
  components: [{ path: '~/components', pathPrefix: false }],

  devtools: { enabled: false },

  app: {
    head: {
      htmlAttrs: { lang: 'en' },
      meta: [{ name: 'viewport', content: 'width=device-width, initial-scale=1' }],
      link: [{ rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]
    }
  },

  css: ['~/assets/css/main.css'],

  colorMode: {
    preference: 'system',
    fallback: 'light'
  },

  ui: {
    // @nuxt/fonts downloads web fonts from remote providers; the theme uses a system stack.
    fonts: false
  },

  compatibilityDate: '2025-07-15',

  vite: {
    server: {
      // The C++ server answers /api and /ws; `nuxt dev` forwards them to it.
      proxy: {
        '/api': process.env.ESOCORE_SERVER_URL ?? 'http://127.0.0.1:8000',
        '/ws': { target: process.env.ESOCORE_SERVER_URL ?? 'http://127.0.0.1:8000', ws: true }
      }
    }
  },

  typescript: {
    strict: true,
    typeCheck: false,
    tsConfig: {
      // An unknown component in a template is an error, not a silently empty element.
      vueCompilerOptions: { checkUnknownComponents: true }
    }
  },

  // Telemetry would phone home from `nuxt` commands.
  telemetry: false,

  eslint: {
    config: {
      stylistic: {
        commaDangle: 'never',
        braceStyle: '1tbs'
      }
    }
  },

  icon: {
    provider: 'none',
    fallbackToApi: false,
    serverBundle: false,
    clientBundle: {
      // Navigation items and columns name icons in TypeScript, so scan .ts files too.
      scan: { globInclude: ['app/**/*.{vue,ts}'] },
      // Icons that Nuxt UI's own components use (appConfig.ui.icons).
      icons: [
        'lucide:arrow-down', 'lucide:arrow-left', 'lucide:arrow-right', 'lucide:arrow-up',
        'lucide:circle-alert', 'lucide:check', 'lucide:chevrons-left', 'lucide:chevrons-right',
        'lucide:chevron-down', 'lucide:chevron-left', 'lucide:chevron-right', 'lucide:chevron-up',
        'lucide:x', 'lucide:copy', 'lucide:copy-check', 'lucide:moon', 'lucide:grip-vertical',
        'lucide:ellipsis', 'lucide:circle-x', 'lucide:arrow-up-right', 'lucide:eye',
        'lucide:eye-off', 'lucide:info', 'lucide:sun', 'lucide:loader-circle', 'lucide:menu',
        'lucide:minus', 'lucide:panel-left-close', 'lucide:panel-left-open', 'lucide:plus',
        'lucide:rotate-ccw', 'lucide:search', 'lucide:circle-check', 'lucide:monitor',
        'lucide:triangle-alert'
      ],
      sizeLimitKb: 512
    }
  }
})
