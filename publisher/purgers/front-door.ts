/**
 * Purges Azure Front Door Standard/Premium: `afdEndpoints.beginPurgeContentAndWait` of
 * `@azure/arm-cdn` (POST .../afdEndpoints/{endpoint}/purge, a long-running operation polled through
 * its Azure-AsyncOperation URL). Authenticates with `DefaultAzureCredential` unless given a
 * credential: in Azure, the publisher's managed identity needs `Microsoft.Cdn/profiles/afdendpoints/purge/action`,
 * which "CDN Profile Contributor" on the profile holds ("CDN Endpoint Contributor" covers only classic
 * CDN endpoints: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/networking).
 */
import { CdnManagementClient, type CdnManagementClientOptionalParams } from '@azure/arm-cdn';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import { durationText } from '../../platform/deadline';
import { checkedContentPaths, isRetryableStatus, PurgeError } from './purge-error';
import type { Purger, PurgeOptions } from './purger';

export interface FrontDoorEndpointRef {
  subscriptionId: string;
  resourceGroupName: string;
  profileName: string;
  endpointName: string;
  /** Purge only on these domains (the endpoint's and custom domains); all of the endpoint's when absent. */
  domains?: string[];
}

export interface FrontDoorPurgerOptions {
  /** Defaults to `new DefaultAzureCredential()`. */
  credential?: TokenCredential;
  /** Passed to `CdnManagementClient` (tests point `endpoint` at an ARM stand-in). */
  clientOptions?: CdnManagementClientOptionalParams;
  /** Poll interval of the long-running purge when ARM sends no Retry-After; the SDK's 2 s by default. */
  pollIntervalInMs?: number;
  /** Timeout of each request (the purge request, each poll: `requestOptions.timeout`); 10 s by default. The operation itself may take minutes. */
  requestTimeoutInMs?: number;
}

export const DEFAULT_PURGE_REQUEST_TIMEOUT_IN_MS = 10_000;

export class FrontDoorPurger implements Purger {
  readonly name: string;
  private readonly client: CdnManagementClient;

  constructor(
    private readonly endpoint: FrontDoorEndpointRef,
    private readonly options: FrontDoorPurgerOptions = {},
  ) {
    this.name = `front-door:${endpoint.profileName}/${endpoint.endpointName}`;
    this.client = new CdnManagementClient(options.credential ?? new DefaultAzureCredential(), endpoint.subscriptionId, options.clientOptions);
  }

  async purge(contentPaths: readonly string[], options: PurgeOptions = {}): Promise<void> {
    const paths = checkedContentPaths(this.name, contentPaths);
    const { resourceGroupName, profileName, endpointName, domains } = this.endpoint;
    const requestTimeoutInMs = this.options.requestTimeoutInMs ?? DEFAULT_PURGE_REQUEST_TIMEOUT_IN_MS;
    try {
      await this.client.afdEndpoints.beginPurgeContentAndWait(
        resourceGroupName,
        profileName,
        endpointName,
        { contentPaths: paths, ...(domains && domains.length > 0 ? { domains } : {}) },
        { abortSignal: options.abortSignal, updateIntervalInMs: this.options.pollIntervalInMs, requestOptions: { timeout: requestTimeoutInMs } },
      );
    } catch (error) {
      // The SDK reports its own request timeout as an abort: only the caller's abort is one.
      if ((error as Error)?.name === 'AbortError' && !options.abortSignal?.aborted) {
        throw new PurgeError(`${this.name}: Front Door's purge API did not answer in ${durationText(requestTimeoutInMs)}`, { code: 'timeout', retryable: true, cause: error });
      }
      throw purgeErrorFrom(this.name, error);
    }
  }
}

/** An SDK failure as a PurgeError: RestError (HTTP), a failed operation, an abort, or a network fault. */
function purgeErrorFrom(purger: string, error: unknown): PurgeError {
  const failure = error as { name?: string; statusCode?: number; code?: string; message?: string };
  if (failure?.name === 'AbortError') return new PurgeError(`${purger}: purge aborted`, { code: 'aborted', retryable: false, cause: error });
  if (failure?.name === 'RestError') {
    const status = failure.statusCode;
    const code = failure.code ?? (status === undefined ? 'network_error' : undefined);
    return new PurgeError(`${purger}: purge request failed${status ? ` with HTTP ${status}` : ''}${code ? ` (${code})` : ''}: ${failure.message}`, {
      statusCode: status,
      code,
      retryable: isRetryableStatus(status),
      cause: error,
    });
  }
  // core-lro reports an operation that ended "Failed" as a plain Error naming ARM's code and message.
  return new PurgeError(`${purger}: ${failure?.message ?? String(error)}`, { code: 'operation_failed', retryable: true, cause: error });
}
