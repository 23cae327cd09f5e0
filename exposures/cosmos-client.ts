/**
 * The Cosmos DB client of a deployable: the account key when one is configured, otherwise the
 * managed identity (`DefaultAzureCredential`, the production way: no key in app settings).
 * Retries are short on purpose: a caller waiting on a phone answers 503 with Retry-After instead.
 */
import { CosmosClient, type CosmosClientOptions } from '@azure/cosmos';
import { DefaultAzureCredential } from '@azure/identity';

export interface CosmosClientSettings {
  endpoint: string;
  key?: string;
  /** Per HTTP request. */
  requestTimeoutInMs?: number;
  /** Throttling retries inside the SDK before a 429 surfaces. */
  maxRetries?: number;
  maxRetryWaitInSeconds?: number;
}

export function cosmosClientOptions(settings: CosmosClientSettings): CosmosClientOptions {
  return {
    endpoint: settings.endpoint,
    ...(settings.key ? { key: settings.key } : { aadCredentials: new DefaultAzureCredential() }),
    connectionPolicy: {
      requestTimeout: settings.requestTimeoutInMs ?? 3000,
      retryOptions: { maxRetryAttemptCount: settings.maxRetries ?? 1, maxWaitTimeInSeconds: settings.maxRetryWaitInSeconds ?? 2 },
    },
  };
}

export function createCosmosClient(settings: CosmosClientSettings): CosmosClient {
  return new CosmosClient(cosmosClientOptions(settings));
}
