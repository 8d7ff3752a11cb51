import type { Role } from './models'

declare module '#app' {
  interface PageMeta {
    /** Reachable without signing in. */
    public?: boolean
    /** The lowest role in some organization that may open the page; others see why not. */
    minimumRole?: Role
  }
}

export {}
