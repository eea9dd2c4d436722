/**
 * Where the engine keeps the records of an export between reading its rows and finishing them
 * (issue #11: a million rows in bounded memory). The first `memoryLimit` records stay in memory;
 * past that, every record is written to a JSON-lines file in a temporary folder and read back
 * (sequentially, or one by one by its position) when the engine finishes. Per record, memory
 * holds only its offset in the file and a few numbers (its kind, the hashes of its key and of
 * its dedupe value): about 17 bytes.
 *
 * HashIndex is the dedupe index over those hashes: open addressing in typed arrays, 32-bit
 * string hashes; a hash hit is only a candidate, which the caller confirms on the records (a
 * million keys give a few hundred false candidates: a few hundred extra reads).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A 32-bit string hash (the low half of cyrb53, public domain, bryc). */
export function hash32(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  return h1 >>> 0;
}

const PAGE = 1 << 16;

/**
 * A growable array of numbers in fixed pages of 65,536 (a typed array each): growing never
 * copies, and at most one page is partly empty (no doubling: a million records hold 1.1 million
 * slots, not two million).
 */
export class Paged<A extends Float64Array | Uint32Array | Uint8Array> {
  private readonly pages: A[] = [];
  length = 0;
  constructor(private readonly make: (n: number) => A) {}
  push(v: number): void {
    const page = this.length >>> 16;
    if (page === this.pages.length) this.pages.push(this.make(PAGE));
    (this.pages[page] as A)[this.length & (PAGE - 1)] = v;
    this.length += 1;
  }
  get(i: number): number {
    return (this.pages[i >>> 16] as A)[i & (PAGE - 1)] as number;
  }
}

export interface StoreOptions {
  /** records kept in memory before the store moves to disk (default 5,000) */
  memoryLimit?: number | undefined;
  /** the folder for the temporary file (default: the OS's) */
  dir?: string | undefined;
}

const WRITE_BUFFER = 1 << 20;
const READ_CHUNK = 4 << 20;

/**
 * How a record is written to the temporary file and read back: `encode` gives a JSON value (a
 * more compact one than the record: what is the same for many records named by a number),
 * `decode` the record from it. Without one, the record itself is the JSON.
 */
export interface StoreCodec<T> {
  encode(record: T): unknown;
  decode(value: unknown): T;
}

/** Records (any JSON value) by position: in memory, then in a temporary file. */
export class DraftStore<T> {
  private memory: T[] | null = [];
  private readonly offsets = new Paged((n) => new Float64Array(n));
  private folder: string | null = null;
  private fd: number | null = null;
  private written = 0;
  /** lines not yet written, encoded as UTF-8 straight into one buffer (no join, no second pass to count bytes) */
  private pending = Buffer.allocUnsafe(WRITE_BUFFER);
  private pendingBytes = 0;
  private readonly memoryLimit: number;
  /** per record: a small number the caller gives (its kind, object) */
  readonly tags = new Paged((n) => new Uint8Array(n));
  /** per record: two 32-bit numbers the caller gives (hashes) */
  readonly a = new Paged((n) => new Uint32Array(n));
  readonly b = new Paged((n) => new Uint32Array(n));
  private count = 0;

  constructor(
    private readonly options: StoreOptions = {},
    private readonly codec?: StoreCodec<T>,
  ) {
    this.memoryLimit = options.memoryLimit ?? 5000;
  }

  get size(): number {
    return this.count;
  }

  get onDisk(): boolean {
    return this.memory === null;
  }

  add(record: T, tag: number, a: number, b: number): number {
    const at = this.count++;
    this.tags.push(tag);
    this.a.push(a);
    this.b.push(b);
    if (this.memory) {
      this.memory.push(record);
      if (this.memory.length > this.memoryLimit) this.toDisk();
      return at;
    }
    this.append(record);
    return at;
  }

  private toDisk(): void {
    this.folder = mkdtempSync(join(this.options.dir ?? tmpdir(), 'crm-staging-'));
    this.fd = openSync(join(this.folder, 'drafts.jsonl'), 'w+');
    const held = this.memory as T[];
    this.memory = null;
    for (const r of held) this.append(r);
  }

  private append(record: T): void {
    const line = `${JSON.stringify(this.codec ? this.codec.encode(record) : record)}\n`;
    this.offsets.push(this.written + this.pendingBytes);
    // a UTF-8 character takes at most 3 bytes per UTF-16 unit: when the line may not fit, write what is pending first
    if (this.pendingBytes + line.length * 3 > this.pending.length) {
      this.flush();
      if (line.length * 3 > this.pending.length) this.pending = Buffer.allocUnsafe(line.length * 3);
    }
    this.pendingBytes += this.pending.write(line, this.pendingBytes, 'utf8');
  }

  private flush(): void {
    if (this.pendingBytes === 0 || this.fd === null) return;
    let done = 0;
    while (done < this.pendingBytes)
      done += writeSync(this.fd, this.pending, done, this.pendingBytes - done, this.written + done);
    this.written += this.pendingBytes;
    this.pendingBytes = 0;
  }

  private decode(text: string): T {
    const value: unknown = JSON.parse(text);
    return this.codec ? this.codec.decode(value) : (value as T);
  }

  private end(i: number): number {
    return i + 1 < this.offsets.length ? this.offsets.get(i + 1) : this.written + this.pendingBytes;
  }

  /** One record by position (from disk: a fresh copy each time; in memory: the record itself). */
  get(i: number): T {
    if (this.memory) return this.memory[i] as T;
    this.flush();
    const start = this.offsets.get(i);
    const length = this.end(i) - start;
    const buf = Buffer.allocUnsafe(length);
    readSync(this.fd as number, buf, 0, length, start);
    return this.decode(buf.toString('utf8'));
  }

  /** Every record in order, with its position; `want(i)` false skips one without parsing it. */
  *each(want: (i: number) => boolean = () => true): Generator<[number, T]> {
    if (this.memory) {
      for (let i = 0; i < this.memory.length; i++) if (want(i)) yield [i, this.memory[i] as T];
      return;
    }
    this.flush();
    // one read buffer for the whole pass (a record is parsed before the buffer is read into again)
    let buffer = Buffer.allocUnsafe(READ_CHUNK);
    let chunkStart = 0;
    let chunkLength = 0;
    for (let i = 0; i < this.count; i++) {
      if (!want(i)) continue;
      const start = this.offsets.get(i);
      const end = this.end(i);
      if (start < chunkStart || end > chunkStart + chunkLength) {
        if (end - start > buffer.length) buffer = Buffer.allocUnsafe(end - start);
        chunkStart = start;
        chunkLength = readSync(this.fd as number, buffer, 0, buffer.length, start);
      }
      yield [i, this.decode(buffer.toString('utf8', start - chunkStart, end - chunkStart))];
    }
  }

  /** Removes the temporary file. */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
    this.fd = null;
    this.folder = null;
    this.memory = [];
  }
}

/** hash → positions, in typed arrays (8 bytes a slot, at most 3 slots in 4 used). */
export class HashIndex {
  private hashes: Uint32Array;
  /** position + 1; 0 is an empty slot */
  private values: Int32Array;
  private used = 0;

  constructor(capacity = 1 << 12) {
    this.hashes = new Uint32Array(capacity);
    this.values = new Int32Array(capacity);
  }

  /** the positions stored under `hash` (the caller keeps one entry per real value) */
  *candidates(hash: number): Generator<number> {
    const n = this.values.length;
    for (let s = hash % n; this.values[s] !== 0; s = s + 1 === n ? 0 : s + 1) {
      if (this.hashes[s] === hash) yield (this.values[s] as number) - 1;
    }
  }

  add(hash: number, position: number): void {
    if ((this.used + 1) * 4 > this.values.length * 3) this.grow();
    const n = this.values.length;
    let s = hash % n;
    while (this.values[s] !== 0) s = s + 1 === n ? 0 : s + 1;
    this.hashes[s] = hash;
    this.values[s] = position + 1;
    this.used += 1;
  }

  private grow(): void {
    const old = { hashes: this.hashes, values: this.values };
    this.hashes = new Uint32Array(old.values.length * 2);
    this.values = new Int32Array(old.values.length * 2);
    this.used = 0;
    for (let s = 0; s < old.values.length; s++)
      if (old.values[s] !== 0) this.add(old.hashes[s] as number, (old.values[s] as number) - 1);
  }

  /** some position is stored under `hash` */
  has(hash: number): boolean {
    const n = this.values.length;
    for (let s = hash % n; this.values[s] !== 0; s = s + 1 === n ? 0 : s + 1) if (this.hashes[s] === hash) return true;
    return false;
  }

  /** an index sized for `entries` entries (no growing on the way) */
  static sized(entries: number): HashIndex {
    return new HashIndex(Math.max(1024, Math.ceil((entries * 4 + 4) / 3) + 1));
  }
}
