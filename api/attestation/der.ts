/**
 * Just enough DER to read one extension of a certificate that OpenSSL has already parsed
 * (X509Certificate): node:crypto exposes no extensions, and parsing the certificate with an ASN.1
 * library (@peculiar/asn1-x509) took 2.6 ms on this path, more than the rest of the App Attest
 * check together, where this takes microseconds.
 */

/** One DER element: its tag byte and where its value lies in the buffer. */
interface Element {
  tag: number;
  start: number;
  end: number;
}

/** The element at `offset`, or `undefined` when the bytes there are not one (high tag numbers are not needed here). */
function elementAt(der: Uint8Array, offset: number, limit: number): Element | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = der[offset];
  if ((tag & 0x1f) === 0x1f) return undefined;
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i];
    start += bytes;
  }
  const end = start + length;
  return end <= limit ? { tag, start, end } : undefined;
}

/** The elements inside a constructed element, in order. */
function childrenOf(der: Uint8Array, parent: Element): Element[] {
  const children: Element[] = [];
  for (let at = parent.start; at < parent.end; ) {
    const child = elementAt(der, at, parent.end);
    if (!child) return [];
    children.push(child);
    at = child.end;
  }
  return children;
}

/** The DER content of an object identifier such as `1.2.840.113635.100.8.2`. */
export function encodeOid(oid: string): Buffer {
  const [first, second, ...rest] = oid.split('.').map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) base128.unshift((value & 0x7f) | 0x80);
    bytes.push(...base128);
  }
  return Buffer.from(bytes);
}

const SEQUENCE = 0x30;
const OID = 0x06;
const OCTET_STRING = 0x04;
/** `[3] EXPLICIT Extensions` of TBSCertificate (RFC 5280, 4.1). */
const EXTENSIONS = 0xa3;

/** The `extnValue` bytes of the extension `oid` (its content OID bytes, `encodeOid`) of a DER certificate, or `undefined`. */
export function certificateExtension(certificate: Uint8Array, oid: Uint8Array): Buffer | undefined {
  const outer = elementAt(certificate, 0, certificate.length);
  if (outer?.tag !== SEQUENCE) return undefined;
  const tbs = childrenOf(certificate, outer)[0];
  if (tbs?.tag !== SEQUENCE) return undefined;
  const wrapper = childrenOf(certificate, tbs).find((element) => element.tag === EXTENSIONS);
  const list = wrapper && childrenOf(certificate, wrapper)[0];
  if (list?.tag !== SEQUENCE) return undefined;
  for (const extension of childrenOf(certificate, list)) {
    const [id, ...others] = childrenOf(certificate, extension);
    // extnID, critical (optional BOOLEAN), extnValue (OCTET STRING): the value is the last element.
    const value = others[others.length - 1];
    if (id?.tag !== OID || value?.tag !== OCTET_STRING) continue;
    if (Buffer.compare(certificate.subarray(id.start, id.end), oid) === 0) return Buffer.from(certificate.subarray(value.start, value.end));
  }
  return undefined;
}
