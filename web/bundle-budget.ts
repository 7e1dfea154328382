/**
 * The bundle-size budget, enforced by `vite build` (a failed budget fails the build): gzip sizes of
 *  - first: what every first visit loads (the entry chunk, its static imports and their CSS);
 *  - page: the heaviest single page on a first visit (first + that route's chunk, its static imports and CSS);
 *  - total: every JS and CSS file the build writes.
 * Raise a limit only with a reason (web/README.md says why each is what it is).
 */
import { gzipSync } from 'node:zlib'
import type { Plugin } from 'vite'

export const BUDGET_KB = { first: 50, page: 125, total: 150 }

type Chunk = { type: 'chunk'; code: string; imports: string[]; isEntry: boolean; isDynamicEntry: boolean; name: string;
  viteMetadata?: { importedCss: Set<string> } }
type Asset = { type: 'asset'; source: string | Uint8Array }
type Output = Record<string, Chunk | Asset>

const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10

export function bundleBudget(limits = BUDGET_KB): Plugin {
  return {
    name: 'avocet-bundle-budget',
    apply: 'build',
    generateBundle(_options, raw) {
      const bundle = raw as unknown as Output
      const size = new Map<string, number>()
      for (const [file, out] of Object.entries(bundle)) {
        if (/\.(js|css)$/.test(file)) size.set(file, gzipSync(out.type === 'chunk' ? out.code : out.source).length)
      }
      const closure = (file: string, seen = new Set<string>()): Set<string> => {
        const out = bundle[file]
        if (seen.has(file) || !out || out.type !== 'chunk') return seen
        seen.add(file)
        out.viteMetadata?.importedCss.forEach((css) => seen.add(css))
        out.imports.forEach((dep) => closure(dep, seen))
        return seen
      }
      const weigh = (files: Set<string>) => [...files].reduce((n, f) => n + (size.get(f) ?? 0), 0)
      const chunks = Object.entries(bundle).filter((e): e is [string, Chunk] => e[1].type === 'chunk')
      const entry = chunks.find(([, c]) => c.isEntry)
      if (!entry) return
      const first = closure(entry[0])
      const pages = chunks.filter(([, c]) => c.isDynamicEntry)
        .map(([file, c]) => ({ name: c.name, kb: kb(weigh(new Set([...first, ...closure(file)]))) }))
        .sort((a, b) => b.kb - a.kb)
      const found = { first: kb(weigh(first)), page: pages[0]?.kb ?? kb(weigh(first)), total: kb(weigh(new Set(size.keys()))) }
      const line = (k: keyof typeof found) => `${k} ${found[k]} KB / ${limits[k]} KB`
      this.info(`bundle budget (gzip): ${line('first')}, ${line('page')} (${pages[0]?.name ?? 'entry'}), ${line('total')}`)
      const over = (Object.keys(found) as (keyof typeof found)[]).filter((k) => found[k] > limits[k])
      if (over.length) {
        this.error(`bundle budget exceeded: ${over.map(line).join(', ')}; pages: ${pages.map((p) => `${p.name} ${p.kb} KB`).join(', ')}. `
          + 'Load the new weight lazily (a route or a dynamic import) or trim it; raise BUDGET_KB in web/bundle-budget.ts only with a reason.')
      }
    },
  }
}
