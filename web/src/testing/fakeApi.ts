/**
 * A fake Avocet API behind fetch for view specs: routes keyed "METHOD /path" (query ignored) answer JSON; every
 * call is recorded. Also a memory router, and chart stand-ins (Chart.js needs a real canvas).
 */
import { defineComponent, h, type Component } from 'vue'
import { mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { vi } from 'vitest'

export type Handler = (init: RequestInit, url: string) => unknown
export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })

export function fakeApi(routes: Record<string, Handler>) {
  const calls: string[] = []
  const bodies: Record<string, unknown[]> = {}
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET'
    const key = `${method} ${url.split('?')[0]}`
    calls.push(`${method} ${url}`)
    if (typeof init.body === 'string') (bodies[key] ??= []).push(JSON.parse(init.body))
    const handler = routes[key]
    const out = handler ? await handler(init, url) : json({ detail: `no route ${key}` }, 404)
    return out instanceof Response ? out : json(out)
  }))
  return { calls, bodies }
}

/** Chart.js stand-in: a canvas carrying the chart's data as JSON, so specs can read what would be drawn. */
export const FakeChart = defineComponent({
  props: { data: { type: Object, required: true }, options: Object },
  setup: (props) => () => h('canvas', { 'data-chart': JSON.stringify(props.data) }),
})

export async function mountAt(path: string, component: Component, props: Record<string, unknown> = {}) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [{ path: '/:rest(.*)*', component: { render: () => null } }],
  })
  await router.push(path)
  return { router, wrapper: mount(component, { props, global: { plugins: [router] } }) }
}
