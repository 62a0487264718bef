// The placeholders of the service template (packages/ops/templates/new-service), in
// file names and contents alike: __name__ (shop), __Name__ (Shop, for type names),
// __NAME__ (SHOP, for environment variables) and __port__.
export interface Tokens {
  name: string
  port: number
}

export function fillTokens(text: string, tokens: Tokens): string {
  const pascal = tokens.name.charAt(0).toUpperCase() + tokens.name.slice(1)
  return text
    .replaceAll('__name__', tokens.name)
    .replaceAll('__Name__', pascal)
    .replaceAll('__NAME__', tokens.name.toUpperCase())
    .replaceAll('__port__', String(tokens.port))
}

/** Placeholder-looking text left after filling (`__nmae__`): a typo in the template. */
export function unfilledTokens(text: string): string[] {
  return [...new Set(text.match(/__[A-Za-z]+__/g) ?? [])]
}
