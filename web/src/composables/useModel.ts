/**
 * One published model: its versions, training_info and card; rolling back makes an earlier version current;
 * deleting removes a version that is not current (then reloads), or the whole model.
 */
import { ref, shallowRef, toValue, watch, type MaybeRefOrGetter } from 'vue'
import { api } from '@/api'
import type { ModelDetail } from '@/types'

export function useModel(name: MaybeRefOrGetter<string>) {
  const data = shallowRef<ModelDetail | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(true)
  const rolling = ref(false)
  const rollbackError = ref<string | null>(null)
  const deleting = ref(false)
  const deleteError = ref<string | null>(null)

  async function load() {
    loading.value = true
    try {
      data.value = await api.model(toValue(name))
      error.value = null
    } catch (e) {
      error.value = (e as Error).message
    } finally {
      loading.value = false
    }
  }

  async function rollback(version: number): Promise<boolean> {
    rolling.value = true
    rollbackError.value = null
    try {
      data.value = await api.rollback(toValue(name), version)
      return true
    } catch (e) {
      rollbackError.value = `Could not roll back to version ${version}: ${(e as Error).message}`
      return false
    } finally {
      rolling.value = false
    }
  }

  /** Runs one delete; false (with `deleteError` saying why) when the API refused it. */
  async function remove(what: string, call: () => Promise<unknown>): Promise<boolean> {
    deleting.value = true
    deleteError.value = null
    try {
      await call()
      return true
    } catch (e) {
      deleteError.value = `Could not delete ${what}: ${(e as Error).message}`
      return false
    } finally {
      deleting.value = false
    }
  }

  async function deleteVersion(version: number): Promise<boolean> {
    const done = await remove(`version ${version}`, () => api.deleteVersion(toValue(name), version))
    if (done) await load()
    return done
  }

  const deleteModel = () => remove(`avocet-${toValue(name)}`, () => api.deleteModel(toValue(name)))

  watch(() => toValue(name), load, { immediate: true })
  return {
    data, error, loading, reload: load, rolling, rollbackError, rollback, deleting, deleteError, deleteVersion, deleteModel,
  }
}
