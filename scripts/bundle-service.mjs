#!/usr/bin/env node
// Bundles a service (run from its folder) with esbuild:
// - dist/server.cjs: the service, one CommonJS file, and dist/server.cjs.cache, V8's
//   code cache of what a training start of it compiled (@app/service's code-cache.ts
//   says why: about 140 of auth's 470 ms to ready), and dist/server.cjs.schemas.json,
//   the code that start generated for the routes' validators and serializers
//   (@app/service's schema-code.ts);
// - dist/server.js: what `node dist/server.js` runs, a few lines that run server.cjs
//   through that cache (@app/service's bundle-entry.ts);
// - dist/migrate.js: its one-shot migration entry, for a pre-deploy job (an ES module:
//   a job that runs once gains little from a cache).
// Why one file: loading ~2,000 small ESM files (typebox, drizzle, fastify, ...) costs
// about 0.9 s at every start on these machines; one file starts in ~0.2 s.
// Native addons stay external (resolved from the service's node_modules), and
// Swagger UI's static assets are copied next to the bundle (see @app/service docs).
// So a service's package.json lists as `dependencies` only those externals (what
// `pnpm deploy --prod` puts in its image); everything bundled is a devDependency.
import { cpSync, existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
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

// The service's own copy of @app/service: its bundle entry and its code cache's training.
const require = createRequire(path.join(serviceDir, 'node_modules', '@app', 'service', 'package.json'))
const serviceKitDir = realpathSync(path.join(serviceDir, 'node_modules', '@app', 'service'))
const codeCacheTraining = await import(
  pathToFileURL(path.join(serviceKitDir, 'dist', 'code-cache-training.js')).href
)

const common = {
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external,
  plugins: [pgSkipsCloudflareProbe],
  legalComments: 'linked',
  charset: 'ascii',
  logLevel: 'warning',
}

// The training start (@app/service's code-cache-training.ts): the built service, started
// with a placeholder config and no database, builds its app, answers its probes in process
// and writes dist/server.cjs.cache; if it fails, a cache of the compile alone, and why.
function takeCodeCache(bundleFile) {
  const result = codeCacheTraining.trainCodeCache({
    bundleFile,
    entry: path.join(outdir, 'server.js'),
    cwd: serviceDir,
    env: (scratchDir) => ({
      // Never connected to: the training start stops before listen and migrate.
      DATABASE_URL: 'postgres://code-cache-training@127.0.0.1:9/training',
      // auth's development key is created there (and removed with it).
      DEV_SECRETS_DIR: scratchDir,
    }),
  })
  if (result.cache === 'compile-only') {
    console.warn(
      `code cache: the training start failed (${result.why}); dist/server.cjs.cache covers the compile only, about a third of the gain`,
    )
  }
}

// esbuild writes strings, regular expressions and names in ASCII (charset: 'ascii')
// but copies comments as they are, and one non-ASCII character (an em dash in pg's
// comments) makes the whole source a two-byte string: auth idled at 99 MB of RSS
// against 80 with the same bundle in ASCII. Each becomes '?' (one UTF-16 unit for
// one, so the source map still fits), but only when every one is on a comment line;
// otherwise the file stays as it is.
function asciiComments(file) {
  const source = readFileSync(file, 'utf8')
  const nonAscii = /[\u0080-\uffff]/
  const lines = source.split('\n').filter((line) => nonAscii.test(line))
  if (lines.length === 0) return
  const outside = lines.find((line) => !/^\s*(\/\/|\/?\*)/.test(line))
  if (outside) {
    console.warn(
      `${file}: kept as UTF-8 (a non-ASCII character outside a comment: ${outside.trim().slice(0, 80)})`,
    )
    return
  }
  writeFileSync(file, source.replace(/[\u0080-\uffff]/g, '?'))
}

rmSync(outdir, { recursive: true, force: true })
await build({
  ...common,
  entryPoints: { server: path.join(serviceDir, 'src', 'server.ts') },
  format: 'cjs',
  outExtension: { '.js': '.cjs' },
  // The only import.meta the services read is its url (to find dist/static and the
  // migrations folder); a CommonJS file has __filename instead.
  define: { 'import.meta.url': '__bundleImportMetaUrl' },
  banner: { js: "const __bundleImportMetaUrl = require('node:url').pathToFileURL(__filename).href" },
})
asciiComments(path.join(outdir, 'server.cjs'))
await build({
  ...common,
  entryPoints: { migrate: path.join(serviceDir, 'src', 'migrate.ts') },
  format: 'esm',
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
await build({
  ...common,
  entryPoints: { server: path.join(serviceKitDir, 'dist', 'bundle-entry.js') },
  format: 'esm',
  sourcemap: false,
  plugins: [],
})
// Swagger UI serves its assets from disk: ship them beside the bundle.
const swaggerUiDir = path.dirname(require.resolve('@fastify/swagger-ui/package.json'))
if (!existsSync(path.join(swaggerUiDir, 'static'))) throw new Error(`no static/ in ${swaggerUiDir}`)
cpSync(path.join(swaggerUiDir, 'static'), path.join(outdir, 'static'), { recursive: true })
takeCodeCache(path.join(outdir, 'server.cjs'))
console.log('bundled dist/server.js (dist/server.cjs and its code cache) and dist/migrate.js')
