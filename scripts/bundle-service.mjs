#!/usr/bin/env node
// Bundles a service (run from its folder) with esbuild: dist/server.js (the
// service) and dist/migrate.js (its one-shot migration entry, for a pre-deploy job).
// Why: loading ~2,000 small ESM files (typebox, drizzle, fastify, ...) costs
// about 0.9 s at every start on these machines; one file starts in ~0.2 s.
// Native addons stay external (resolved from the service's node_modules), and
// Swagger UI's static assets are copied next to the bundle (see @app/service docs).
// So a service's package.json lists as `dependencies` only those externals (what
// `pnpm deploy --prod` puts in its image); everything bundled is a devDependency.
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { build } from 'esbuild'

const serviceDir = process.cwd()
const outdir = path.join(serviceDir, 'dist')
const external = ['@node-rs/argon2', 'pg-native']

// pg (8.23) asks at load whether it runs on Cloudflare Workers by building a
// `new Response(...)`, which makes Node load its whole fetch implementation: about
// 15 ms of every start, 5% of it. On Node the answer is always no.
const pgSkipsCloudflareProbe = {
  name: 'pg-skips-cloudflare-probe',
  setup(esbuild) {
    esbuild.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8')
      const probe = 'function isCloudflareRuntime() {'
      // A pg release that renamed the probe fails the build instead of silently keeping it.
      if (!source.includes(probe))
        throw new Error(`${args.path}: no isCloudflareRuntime(); review this plugin`)
      return {
        contents: source.replace(probe, `${probe}\n  if (process.release?.name === 'node') return false`),
        loader: 'js',
      }
    })
  },
}

rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: {
    server: path.join(serviceDir, 'src', 'server.ts'),
    migrate: path.join(serviceDir, 'src', 'migrate.ts'),
  },
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external,
  plugins: [pgSkipsCloudflareProbe],
  legalComments: 'linked',
  logLevel: 'warning',
  // CommonJS dependencies inside an ES module bundle expect these.
  banner: {
    js: [
      "import { createRequire as __bundleRequire } from 'node:module'",
      "import { fileURLToPath as __bundleFileURLToPath } from 'node:url'",
      "import { dirname as __bundleDirname } from 'node:path'",
      'const require = __bundleRequire(import.meta.url)',
      'const __filename = __bundleFileURLToPath(import.meta.url)',
      'const __dirname = __bundleDirname(__filename)',
    ].join('\n'),
  },
})

// Swagger UI serves its assets from disk: ship them beside the bundle.
const require = createRequire(path.join(serviceDir, 'node_modules', '@app', 'service', 'package.json'))
const swaggerUiDir = path.dirname(require.resolve('@fastify/swagger-ui/package.json'))
if (!existsSync(path.join(swaggerUiDir, 'static'))) throw new Error(`no static/ in ${swaggerUiDir}`)
cpSync(path.join(swaggerUiDir, 'static'), path.join(outdir, 'static'), { recursive: true })
console.log('bundled dist/server.js and dist/migrate.js')
