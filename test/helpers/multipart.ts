import { readFileSync } from 'node:fs';

/** A multipart/form-data body for app.inject(): fields and files from disk (or raw bytes). */
export function multipartBody(
  fields: Record<string, string>,
  files: { name: string; path?: string; bytes?: Buffer }[],
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----crm-test-${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  }
  for (const f of files) {
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${f.name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
    );
    chunks.push(f.bytes ?? readFileSync(f.path as string));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
