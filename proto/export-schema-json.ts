/**
 * The protobuf schema of export.proto as a protobufjs JSON descriptor, for code that cannot read
 * files (the phone library in a browser). Generated from export.proto; export-schema-json.test.ts
 * fails when the two differ (it prints the descriptor to paste here).
 */
import type { INamespace } from 'protobufjs';

// protobufjs writes `protoName` into its descriptors but leaves it out of its `IField` type.
export const EXPORT_PROTO_JSON = {
  nested: {
    keyfront: {
      nested: {
        export: {
          nested: {
            TemporaryExposureKeyExport: {
              edition: 'proto2',
              fields: {
                startTimestamp: {
                  type: 'fixed64',
                  id: 1,
                  protoName: 'start_timestamp'
                },
                endTimestamp: {
                  type: 'fixed64',
                  id: 2,
                  protoName: 'end_timestamp'
                },
                region: {
                  type: 'string',
                  id: 3
                },
                batchNum: {
                  type: 'int32',
                  id: 4,
                  protoName: 'batch_num'
                },
                batchSize: {
                  type: 'int32',
                  id: 5,
                  protoName: 'batch_size'
                },
                signatureInfos: {
                  rule: 'repeated',
                  type: 'SignatureInfo',
                  id: 6,
                  protoName: 'signature_infos'
                },
                keys: {
                  rule: 'repeated',
                  type: 'TemporaryExposureKey',
                  id: 7
                },
                revisedKeys: {
                  rule: 'repeated',
                  type: 'TemporaryExposureKey',
                  id: 8,
                  protoName: 'revised_keys'
                }
              }
            },
            SignatureInfo: {
              edition: 'proto2',
              fields: {
                verificationKeyVersion: {
                  type: 'string',
                  id: 3,
                  protoName: 'verification_key_version'
                },
                verificationKeyId: {
                  type: 'string',
                  id: 4,
                  protoName: 'verification_key_id'
                },
                signatureAlgorithm: {
                  type: 'string',
                  id: 5,
                  protoName: 'signature_algorithm'
                }
              },
              reserved: [
                [
                  1,
                  1
                ],
                [
                  2,
                  2
                ],
                'app_bundle_id',
                'android_package'
              ]
            },
            TemporaryExposureKey: {
              edition: 'proto2',
              fields: {
                keyData: {
                  type: 'bytes',
                  id: 1,
                  protoName: 'key_data'
                },
                transmissionRiskLevel: {
                  type: 'int32',
                  id: 2,
                  protoName: 'transmission_risk_level',
                  options: {
                    deprecated: true
                  }
                },
                rollingStartIntervalNumber: {
                  type: 'int32',
                  id: 3,
                  protoName: 'rolling_start_interval_number'
                },
                rollingPeriod: {
                  type: 'int32',
                  id: 4,
                  protoName: 'rolling_period',
                  options: {
                    default: 144
                  }
                },
                reportType: {
                  type: 'ReportType',
                  id: 5,
                  protoName: 'report_type'
                },
                daysSinceOnsetOfSymptoms: {
                  type: 'sint32',
                  id: 6,
                  protoName: 'days_since_onset_of_symptoms'
                }
              },
              nested: {
                ReportType: {
                  values: {
                    UNKNOWN: 0,
                    CONFIRMED_TEST: 1,
                    CONFIRMED_CLINICAL_DIAGNOSIS: 2,
                    SELF_REPORT: 3,
                    RECURSIVE: 4,
                    REVOKED: 5
                  }
                }
              }
            },
            TEKSignatureList: {
              edition: 'proto2',
              fields: {
                signatures: {
                  rule: 'repeated',
                  type: 'TEKSignature',
                  id: 1
                }
              }
            },
            TEKSignature: {
              edition: 'proto2',
              fields: {
                signatureInfo: {
                  type: 'SignatureInfo',
                  id: 1,
                  protoName: 'signature_info'
                },
                batchNum: {
                  type: 'int32',
                  id: 2,
                  protoName: 'batch_num'
                },
                batchSize: {
                  type: 'int32',
                  id: 3,
                  protoName: 'batch_size'
                },
                signature: {
                  type: 'bytes',
                  id: 4
                }
              }
            }
          }
        }
      }
    }
  }
} as Record<string, unknown> as INamespace;
