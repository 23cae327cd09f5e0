/**
 * X.509 certificates for development and tests: a dev CA chain in the shape of Apple's App
 * Attest chain (a P-384 root, a P-384 intermediate, P-256 credential certificates), built with
 * `@peculiar/asn1-x509` and signed with node:crypto. node:crypto reads certificates but cannot
 * make them.
 */
import { randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const ECDSA_WITH_SHA384 = '1.2.840.10045.4.3.3';
const COMMON_NAME = '2.5.4.3';
const ORGANIZATION = '2.5.4.10';

export interface CertificateSpec {
  /** Subject common name (and organization). */
  commonName: string;
  organization?: string;
  publicKey: KeyObject;
  /** The issuer's certificate and key; absent: self-signed with `selfKey`. */
  issuer?: { certificate: X509Certificate; key: KeyObject };
  /** The key of a self-signed certificate. */
  selfKey?: KeyObject;
  ca: boolean;
  notBefore: Date;
  notAfter: Date;
  /** More extensions: OID and the DER of its value. */
  extensions?: ReadonlyArray<{ oid: string; value: Uint8Array }>;
  /** Signature hash: App Attest's root signs with SHA-384, its intermediate with SHA-256. */
  hash?: 'sha256' | 'sha384';
}

function nameOf(commonName: string, organization?: string): Name {
  const rdn = (type: string, value: string) => new RelativeDistinguishedName([new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) })]);
  return new Name([rdn(COMMON_NAME, commonName), ...(organization ? [rdn(ORGANIZATION, organization)] : [])]);
}

function extension(oid: string, critical: boolean, value: ArrayBuffer | Uint8Array): Extension {
  return new Extension({ extnID: oid, critical, extnValue: new OctetString(value) });
}

/** A DER certificate as the spec says. */
export function buildCertificate(spec: CertificateSpec): X509Certificate {
  const signer = spec.issuer?.key ?? spec.selfKey;
  if (!signer) throw new TypeError('a certificate needs an issuer or a key to sign itself');
  const hash = spec.hash ?? 'sha256';
  const signatureAlgorithm = new AlgorithmIdentifier({ algorithm: hash === 'sha384' ? ECDSA_WITH_SHA384 : ECDSA_WITH_SHA256 });
  const subject = nameOf(spec.commonName, spec.organization);
  const usage = spec.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature;
  const serial = randomBytes(8);
  // Positive, and no leading zero byte: DER integers are minimal, and OpenSSL refuses a certificate otherwise.
  serial[0] = (serial[0] & 0x7f) | 0x40;
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: signatureAlgorithm,
    issuer: spec.issuer ? AsnConvert.parse(spec.issuer.certificate.raw, Certificate).tbsCertificate.subject : subject,
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject,
    subjectPublicKeyInfo: AsnConvert.parse(spec.publicKey.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo),
    extensions: new Extensions([
      extension(id_ce_basicConstraints, true, AsnConvert.serialize(new BasicConstraints({ cA: spec.ca }))),
      extension(id_ce_keyUsage, true, AsnConvert.serialize(new KeyUsage(usage))),
      ...(spec.extensions ?? []).map((more) => extension(more.oid, false, more.value)),
    ]),
  });
  const signature = sign(hash, Buffer.from(AsnConvert.serialize(tbs)), signer);
  return new X509Certificate(Buffer.from(AsnConvert.serialize(new Certificate({ tbsCertificate: tbs, signatureAlgorithm, signatureValue: new Uint8Array(signature).buffer }))));
}
