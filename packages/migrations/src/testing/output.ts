/** Collects what a command prints (its `out` and `err` callbacks), for assertions. */
export function output() {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    print: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) },
    all: () => [...out, ...err].join('\n'),
  }
}
