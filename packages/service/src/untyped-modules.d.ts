// fast-json-stringify's runtime modules, which its generated serializers require by
// name (schema-code.ts hands them over); the package types only its entry point.
declare module 'fast-json-stringify/lib/serializer.js' {
  const serializer: unknown
  export default serializer
}
declare module 'fast-json-stringify/lib/validator.js' {
  const validator: unknown
  export default validator
}
