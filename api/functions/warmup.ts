/**
 * `GET /api/warmup`: "this app has started", for the swap's own warm-up. Before a swap, App Service
 * pings `WEBSITE_SWAP_WARMUP_PING_PATH` on every instance of the staging slot from inside the
 * platform and stops the swap unless the answer is in `WEBSITE_SWAP_WARMUP_PING_STATUSES`
 * (https://learn.microsoft.com/azure/app-service/deploy-staging-slots#specify-custom-warm-up). That
 * ping does not come through Front Door and carries no `X-Azure-FDID`, so this route is the one the
 * gate lets through: it reads nothing, writes nothing and says nothing but that the code loaded
 * with a valid configuration. Whether the store answers is `/api/health`'s, through Front Door.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { jsonResponse } from '../http';
import type { ApiRuntime } from '../runtime';

export const route = { name: 'warmup', route: 'warmup', methods: ['GET'], probe: true, withoutFrontDoor: true } as const;

export async function handler(_request: HttpRequest, _context: InvocationContext, _api: ApiRuntime): Promise<HttpResponseInit> {
  return jsonResponse(200, { status: 'ready' });
}
