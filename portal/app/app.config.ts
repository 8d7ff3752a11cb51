export default defineAppConfig({
  ui: {
    colors: {
      primary: 'teal',
      neutral: 'slate'
    },
    // The initials of an avatar read as body text (contrast), not as a dimmed hint.
    avatar: {
      slots: {
        fallback: 'font-medium leading-none text-toned truncate'
      }
    }
  }
})
