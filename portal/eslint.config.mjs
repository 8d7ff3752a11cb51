// @ts-check
import withNuxt from './.nuxt/eslint.config.mjs'

export default withNuxt(
  {
    ignores: ['app/types/api.d.ts']
  },
  {
    rules: {
      'vue/multi-word-component-names': 'off'
    }
  }
)
