// Module declarations for files esbuild inlines as text (the store schema).
declare module '*.sql' {
  const text: string;
  export default text;
}
