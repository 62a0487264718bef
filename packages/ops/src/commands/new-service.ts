// `make new-service name=<name> [port=<port>]`: services/<name> from the template in
// packages/ops/templates/new-service, its entries in the shared files (compose,
// Kubernetes, ports), the workspace install that links it, and its first migration
// made by add-migration like any other. Everything is planned in memory first; if a
// later step fails, the files are put back as they were.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { addMigration, discoverServices, repoRoot, requireService } from '@app/migrations/authoring'
import type { Command } from '../command.js'
import { runTool as run } from '../new-service/run-tool.js'
import { checkServiceName } from '../new-service/service-name.js'
import { choosePort } from '../new-service/service-port.js'
import { planSharedEdits } from '../new-service/shared-edits.js'
import { renderTemplate } from '../new-service/template.js'

/** The pinned pnpm the Makefile installs in .tools/, else one on PATH. */
function pnpm(root: string): string {
  const pinned = path.join(root, '.tools', 'node_modules', '.bin', 'pnpm')
  return existsSync(pinned) ? pinned : 'pnpm'
}

export const newServiceCommand: Command = {
  name: 'new-service',
  usage: 'new-service --name <name> [--port <port>]',
  summary:
    'create services/<name> from the template: schema, first migration, routes, tests, compose and Kubernetes entries',
  async run({ options, out, err }) {
    const root = repoRoot()
    const name = checkServiceName(options.name, root)
    const port = await choosePort(options.port)
    const tokens = { name, port }
    const files = renderTemplate(tokens)
    const edits = planSharedEdits(root, tokens)
    const lockfile = path.join(root, 'pnpm-lock.yaml')
    const lockBefore = readFileSync(lockfile, 'utf8')
    const created = [`services/${name}`, `infra/k8s/base/${name}`]
    for (const dir of created) {
      if (existsSync(path.join(root, dir))) throw new Error(`${dir} exists already: nothing was written`)
    }

    const undo = () => {
      for (const dir of created) rmSync(path.join(root, dir), { recursive: true, force: true })
      for (const edit of edits) writeFileSync(path.join(root, edit.file), edit.before)
      writeFileSync(lockfile, lockBefore)
      err(
        `new-service: undone: ${created.join(' and ')} removed, the shared files and pnpm-lock.yaml restored`,
      )
    }
    out(`${name}: port ${port}, schema "${name}", roles ${name} (owner) and ${name}_app (runtime)`)
    try {
      for (const file of files) {
        mkdirSync(path.dirname(path.join(root, file.file)), { recursive: true })
        writeFileSync(path.join(root, file.file), file.content)
      }
      for (const edit of edits) writeFileSync(path.join(root, edit.file), edit.after)
      out(
        `${name}: wrote services/${name} and infra/k8s/base/${name} from packages/ops/templates/new-service`,
      )
      out(`${name}: added it to ${edits.map((e) => e.file).join(', ')}`)

      out(`${name}: pnpm install (links @app/${name}, adds it to pnpm-lock.yaml)`)
      // Not frozen: the lockfile gains the new package (pnpm freezes it by default under CI=true).
      if (!(await run(root, pnpm(root), ['install', '--prefer-offline', '--no-frozen-lockfile'], err))) {
        err('error: pnpm install failed (above)')
        undo()
        return 1
      }
      const all = discoverServices(root)
      const service = requireService(name, all)
      const code = await addMigration({
        service,
        otherSchemas: all.filter((s) => s.schema !== service.schema).map((s) => s.schema),
        msg: 'init',
        out,
        err,
      })
      if (code !== 0) {
        undo()
        return code
      }
      // The template is formatted for its placeholders; the names filled in change line lengths.
      const generated = files.map((f) => f.file)
      if (!(await run(root, pnpm(root), ['exec', 'biome', 'check', '--write', ...generated], err))) {
        err('error: biome check failed on the generated files (above)')
        undo()
        return 1
      }
      // The shared files are formatted only: whatever else biome finds in them is not this command's.
      const shared = edits.map((e) => e.file)
      if (!(await run(root, pnpm(root), ['exec', 'biome', 'format', '--write', ...shared], err))) {
        err(`warning: biome format failed on ${shared.join(', ')} (above); make format fixes what it can`)
      }
    } catch (error) {
      undo()
      throw error
    }
    out(`${name}: ready. Next: make check; pnpm --filter @app/${name} test; make run svc=${name}`)
    out(
      `  then http://localhost:${port}/docs; make dev runs it beside the others. Replace its example resource (items) with its own.`,
    )
    return 0
  },
}
