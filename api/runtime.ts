/**
 * What the handlers work with, built once per process from the configuration: the store, the
 * certificate verifier, the logger and the clock. Tests and the local host pass their own store
 * and clock; the Function App entry builds the Cosmos store from the settings.
 */
import { version } from '../package.json';
import type { ApiConfig } from './config';
import { createLogger, type Logger } from '../platform/log';
import { noopMetrics, type Metrics } from '../platform/metrics';
import { countFailures } from '../platform/metrics-failures';
import { AttestationVerifier } from './attestation/verifier';
import { CertificateVerifier } from './upload/certificate';
import { UploadLatencies } from './upload/chaff-latency';
import { createCosmosClient } from '../exposures/cosmos-client';
import { CosmosExposureStore } from '../exposures/cosmos-store';
import type { ExposureStore } from '../exposures/exposure-store';
import { MemoryExposureStore } from '../exposures/memory-store';

export interface ApiRuntime {
  config: ApiConfig;
  store: ExposureStore;
  certificates: CertificateVerifier;
  /** Device attestation of uploads, in each health authority's mode. */
  attestation: AttestationVerifier;
  logger: Logger;
  /** The figures operators watch (README "Telemetry"); records nothing when telemetry is off. */
  metrics: Metrics;
  now(): Date;
  version: string;
  /** Whether the store answered a ping recently (cached briefly: every edge location probes health). */
  storeAnswers(): Promise<boolean>;
  /** Durations of recent real uploads, which chaff answers imitate. */
  uploadLatencies: UploadLatencies;
  /** Waits `ms` (tests pass their own, to see what a chaff answer waits). */
  sleep(ms: number): Promise<void>;
}

export interface ApiRuntimeOptions {
  store?: ExposureStore;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => Date;
  /** How long a health answer about the store is reused. */
  healthCacheInMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The store the settings name (Cosmos on the configured account, or memory). */
export function createStore(config: ApiConfig): ExposureStore {
  const { store } = config;
  if (store.kind === 'memory') return new MemoryExposureStore();
  const client = createCosmosClient({ endpoint: store.endpoint ?? '', ...(store.key ? { key: store.key } : {}) });
  return new CosmosExposureStore({ container: client.database(store.databaseId).container(store.containerId), shards: store.shards });
}

export function createApiRuntime(config: ApiConfig, options: ApiRuntimeOptions = {}): ApiRuntime {
  const metrics = options.metrics ?? noopMetrics;
  // Failures counted only where they are recorded: no wrapper on the store otherwise.
  const store = metrics === noopMetrics ? (options.store ?? createStore(config)) : countFailures(options.store ?? createStore(config), metrics.storeError);
  const logger = options.logger ?? createLogger('api', { level: config.logLevel });
  const now = options.now ?? (() => new Date());
  const healthCacheInMs = options.healthCacheInMs ?? 5000;
  let health: { at: number; answers: Promise<boolean> } | undefined;
  return {
    config,
    store,
    certificates: new CertificateVerifier(config.healthAuthorities, { clockSkewSeconds: config.certificateClockSkewSeconds, maxAgeSeconds: config.certificateMaxAgeSeconds, jwks: config.jwks, jwksDeps: { logger } }),
    attestation: new AttestationVerifier(config.attestation, metrics, logger),
    logger,
    metrics,
    now,
    version,
    uploadLatencies: new UploadLatencies(),
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    storeAnswers: () => {
      const at = Date.now();
      if (!health || at - health.at >= healthCacheInMs) {
        health = {
          at,
          answers: store.ping({ abortSignal: AbortSignal.timeout(Math.min(config.store.timeoutInMs, 2000)) }).then(
            () => true,
            () => false,
          ),
        };
      }
      return health.answers;
    },
  };
}
