import path from 'node:path'

/** A path as the user would type it from where they ran make (absolute when outside it). */
export function displayPath(target: string): string {
  const relative = path.relative(process.cwd(), target)
  return relative && !relative.startsWith('..') ? relative : target
}
