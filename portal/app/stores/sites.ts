import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useApi } from '~/composables/useApi'
import type { Site, SiteList } from '~/types/models'

const pageLimit = 500

/** The sites the person may see, for names in lists and the site filters. */
export const useSitesStore = defineStore('sites', () => {
  const api = useApi()
  const sites = ref<Site[]>([])
  const loaded = ref(false)
  const error = ref<unknown>(null)

  const byId = computed(() => new Map(sites.value.map(site => [site.id, site])))
  const options = computed(() => sites.value.map(site => ({ label: site.name, value: site.id })))

  function nameOf(id: string | null | undefined): string {
    return id ? (byId.value.get(id)?.name ?? '—') : '—'
  }

  /** Reads every page of sites; `force` reads again after a change. */
  async function load(force = false): Promise<void> {
    if (loaded.value && !force) {
      return
    }
    try {
      const all: Site[] = []
      let cursor: string | null = null
      do {
        const page: SiteList = await api.get<SiteList>('/api/sites', { query: { limit: pageLimit, cursor, ordering: 'name' } })
        all.push(...page.results)
        cursor = page.next
      } while (cursor)
      sites.value = all
      error.value = null
    } catch (failure) {
      error.value = failure
    }
    loaded.value = true
  }

  return { sites, loaded, error, byId, options, nameOf, load }
})
