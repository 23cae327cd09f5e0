/**
 * The Cosmos DB client of a deployable: the account key when one is configured, otherwise the
 * managed identity (`DefaultAzureCredential`, the production way: no key in app settings). Each
 * HTTP request has a timeout (`connectionPolicy.requestTimeout`; the SDK's default is 60 s). For the
 * API retries are short on purpose: a caller waiting on a phone answers 503 with Retry-After
 * instead; the publisher waits out throttling longer, within its own bound per store request.
 */
import { CosmosClient, type CosmosClientOptions } from '@azure/cosmos';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';

/** KEYFRONT_STORE_TIMEOUT_MS, as both of its readers (api, publisher) describe it. */
export const STORE_TIMEOUT_DESCRIPTION =
  "Bound of the exposure store's work: in the API, of the store calls of one upload (past it: 503 with Retry-After); in the publisher, of each store request (a page of keys, a delete), the SDK's retries included (a silent store stops the run, named).";

export interface CosmosClientSettings {
  endpoint: string;
  key?: string;
  /** Used without a key (default: a new `DefaultAzureCredential`). */
  credential?: TokenCredential;
  /** Per HTTP request. */
  requestTimeoutInMs?: number;
  /** Throttling retries inside the SDK before a 429 surfaces. */
  maxRetries?: number;
  maxRetryWaitInSeconds?: number;
}

export function cosmosClientOptions(settings: CosmosClientSettings): CosmosClientOptions {
  return {
    endpoint: settings.endpoint,
    ...(settings.key ? { key: settings.key } : { aadCredentials: settings.credential ?? new DefaultAzureCredential() }),
    connectionPolicy: {
      requestTimeout: settings.requestTimeoutInMs ?? 3000,
      retryOptions: { maxRetryAttemptCount: settings.maxRetries ?? 1, maxWaitTimeInSeconds: settings.maxRetryWaitInSeconds ?? 2 },
    },
  };
}

export function createCosmosClient(settings: CosmosClientSettings): CosmosClient {
  return new CosmosClient(cosmosClientOptions(settings));
}
