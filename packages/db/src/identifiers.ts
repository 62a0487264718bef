/** A PostgreSQL identifier, quoted: safe for any name, case kept. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}
