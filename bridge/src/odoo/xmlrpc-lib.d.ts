// The parts of the `xmlrpc` package's own modules that `xmlrpc-call.ts` uses (it ships no types for them).
declare module 'xmlrpc/lib/serializer.js' {
  export function serializeMethodCall(method: string, params: unknown[], encoding?: string): string;
}
declare module 'xmlrpc/lib/deserializer.js' {
  import type { Readable } from 'node:stream';
  export default class Deserializer {
    constructor(encoding?: string);
    deserializeMethodResponse(stream: Readable, callback: (err: unknown, value: unknown) => void): void;
  }
}
