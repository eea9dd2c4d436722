/**
 * Which text encoding an export file uses. Exports from CRMs come as UTF-8 (with or without a
 * byte-order mark) or, from Excel round-trips, as Windows-1252 (a superset of Latin-1 for
 * printable text). We decide on the first bytes: a BOM wins; bytes that are valid UTF-8 mean
 * UTF-8; anything else is Windows-1252. The decoder is strict afterwards, so a UTF-8 file with a
 * bad byte further down fails loudly instead of producing mojibake.
 */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'windows-1252';

export interface EncodingGuess {
  encoding: TextEncoding;
  bomLength: number;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const UTF16LE_BOM = [0xff, 0xfe];

export function detectEncoding(head: Uint8Array): EncodingGuess {
  if (startsWith(head, UTF8_BOM)) return { encoding: 'utf-8', bomLength: 3 };
  if (startsWith(head, UTF16LE_BOM)) return { encoding: 'utf-16le', bomLength: 2 };
  return { encoding: isUtf8Prefix(head) ? 'utf-8' : 'windows-1252', bomLength: 0 };
}

/** True when the bytes are valid UTF-8, allowing a multi-byte sequence cut at the end. */
export function isUtf8Prefix(bytes: Uint8Array): boolean {
  let cut = bytes.length;
  // back off at most 3 bytes of a trailing, possibly incomplete, sequence
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    const b = bytes[i] as number;
    if ((b & 0xc0) !== 0x80) {
      cut = (b & 0x80) === 0 ? bytes.length : i;
      break;
    }
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, cut));
    return true;
  } catch {
    return false;
  }
}

export function looksBinary(head: Uint8Array): boolean {
  const n = Math.min(head.length, 8192);
  for (let i = 0; i < n; i++) if (head[i] === 0) return true;
  return false;
}

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}
