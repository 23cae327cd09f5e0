/**
 * The phone library: what a phone does against keyfront (sync the index and export files, verify
 * them, register, upload, chaff) on web-standard fetch, AbortSignal and WebCrypto only, so that the
 * CLI, the drills, the fleet simulation and the transparency page in a browser share it.
 */
export { acceptedWindowEnds, CLOCK_TOLERANCE_SECONDS, serverSecondsOf, type TimeEvidence } from './clock';
export { ClientError, type ClientErrorCode } from './errors';
export { parseExportPath, parseIndex, type ExportPath } from './index-file';
export { Phone, type PhoneOptions, type PhoneSyncReport, type SendUploadsOptions } from './phone';
export { base64ToBytes, bytesToBase64, importVerificationKey, type CryptoKey, type JsonWebKey, type VerificationKey } from './public-key';
export { DEFAULT_RETRY_POLICY, fetchWithRetry, retryAfterInMs, runtimeOf, UPLOAD_RETRY_POLICY, type ClientEnvironment, type RetryPolicy } from './retry';
export { emptyState, parseState, type PhoneState } from './state';
export { syncRegion, type ExportVerifier, type FailedFile, type FetchedFile, type SyncOptions, type SyncReport, type SyncResult } from './sync';
export { attestationDigest, chaffRequest, paddedBody, register, REQUEST_BLOCK_BYTES, sendChaff, upload, type Registration, type UploadKey, type UploadRequest, type UploadResult } from './upload';
export { type PendingUpload, type UploadOutcome } from './upload-queue';
export { ATTESTATION_PLATFORMS, type AttestationPlatform } from '../proto/canonical-upload';
export { ECDSA_P256_SHA256_OID, verifyExportFile, type AcceptedKeys, type SignatureInfoFields, type VerifiedExport, type VerifyExpectations } from './verify-export';
export { readExportZip } from './zip-reader';
