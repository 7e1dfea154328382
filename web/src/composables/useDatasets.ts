/**
 * The datasets (the score file and uploads), uploading one (a refused file keeps its line-numbered problems) and
 * deleting one (refused while a queued or running job uses it).
 */
import { ref, shallowRef } from 'vue'
import { api } from '@/api'
import type { Dataset } from '@/types'
import { describeUploadFailure, type UploadFailure } from '@/utils/uploads'

export function useDatasets() {
  const list = shallowRef<Dataset[]>([])
  const error = ref<string | null>(null)
  const loading = ref(true)
  const uploading = ref(false)
  const uploadError = shallowRef<UploadFailure | null>(null)
  const removing = ref(false)
  const removeError = ref<string | null>(null)

  async function refresh() {
    try {
      list.value = await api.datasets()
      error.value = null
    } catch (e) {
      error.value = (e as Error).message
    } finally {
      loading.value = false
    }
  }

  /** Uploads a file; the stored dataset (also when the same bytes were there already), or null when refused. */
  async function upload(file: File): Promise<Dataset | null> {
    uploading.value = true
    uploadError.value = null
    try {
      const dataset = await api.uploadDataset(file)
      await refresh()
      return dataset
    } catch (e) {
      uploadError.value = describeUploadFailure(e, file.name)
      return null
    } finally {
      uploading.value = false
    }
  }

  /** Deletes an upload and lists the rest; false (with `removeError` saying why) when the API refused. */
  async function remove(dataset: Dataset): Promise<boolean> {
    removing.value = true
    removeError.value = null
    try {
      await api.deleteDataset(dataset.id)
      await refresh()
      return true
    } catch (e) {
      removeError.value = `Could not delete ${dataset.name}: ${(e as Error).message}`
      return false
    } finally {
      removing.value = false
    }
  }

  refresh()
  return { list, error, loading, refresh, uploading, uploadError, upload, removing, removeError, remove }
}
