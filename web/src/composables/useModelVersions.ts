/**
 * The versions of one published model (GET /api/models/{name}: version_list), newest first, reloaded when the name
 * changes; an answer for a name no longer chosen is dropped, so a slow one cannot replace the right list.
 */
import { ref, shallowRef, toValue, watch, type MaybeRefOrGetter } from 'vue'
import { api } from '@/api'
import type { VersionInfo } from '@/types'

export function useModelVersions(name: MaybeRefOrGetter<string>) {
  const versions = shallowRef<VersionInfo[]>([])
  const error = ref<string | null>(null)

  watch(() => toValue(name), async (asked) => {
    versions.value = []
    error.value = null
    if (!asked) return
    try {
      const detail = await api.model(asked)
      if (toValue(name) === asked) versions.value = [...detail.version_list].sort((a, b) => b.version - a.version)
    } catch (e) {
      if (toValue(name) === asked) error.value = `Could not load the versions of ${asked}: ${(e as Error).message}`
    }
  }, { immediate: true })

  return { versions, error }
}
