/**
 * Azure RBAC as the stand-ins need it: the built-in roles keyfront's templates assign, with their
 * actions and data actions as listed on the built-in roles page
 * (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles, same GUID in every
 * tenant), and the check Azure makes: an operation is allowed when a role assigned to the caller
 * at the operation's scope or above matches its action (wildcards as in role definitions) and no
 * NotActions removes it. A template that assigns a role missing here is refused by the stand-in,
 * naming the role: its actions come from that page, never from a guess.
 */

export interface RoleDefinition {
  name: string;
  actions: string[];
  notActions?: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

export const BUILT_IN_ROLES: Readonly<Record<string, RoleDefinition>> = {
  // Networking: CDN.
  'ec156ff8-a8d1-4d15-830c-5b80698ca432': {
    name: 'CDN Profile Contributor',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.Cdn/edgenodes/read', 'Microsoft.Cdn/operationresults/*', 'Microsoft.Cdn/profiles/*', 'Microsoft.Insights/alertRules/*', 'Microsoft.Resources/deployments/*', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Support/*'],
  },
  '426e0c7f-0c7e-4658-b36f-ff54d6c29b45': {
    name: 'CDN Endpoint Contributor',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.Cdn/edgenodes/read', 'Microsoft.Cdn/operationresults/*', 'Microsoft.Cdn/profiles/endpoints/*', 'Microsoft.Insights/alertRules/*', 'Microsoft.Resources/deployments/*', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Support/*'],
  },
  // Storage.
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': {
    name: 'Storage Blob Data Owner',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/*', 'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action'],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/*'],
  },
  'ba92f5b4-2d11-453d-a403-e96b0029c9fe': {
    name: 'Storage Blob Data Contributor',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/delete', 'Microsoft.Storage/storageAccounts/blobServices/containers/read', 'Microsoft.Storage/storageAccounts/blobServices/containers/write', 'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action'],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete', 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read', 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write', 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action', 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'],
  },
  '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1': {
    name: 'Storage Blob Data Reader',
    actions: ['Microsoft.Storage/storageAccounts/blobServices/containers/read', 'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action'],
    dataActions: ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'],
  },
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': {
    name: 'Storage Queue Data Contributor',
    actions: ['Microsoft.Storage/storageAccounts/queueServices/queues/delete', 'Microsoft.Storage/storageAccounts/queueServices/queues/read', 'Microsoft.Storage/storageAccounts/queueServices/queues/write'],
    dataActions: ['Microsoft.Storage/storageAccounts/queueServices/queues/messages/delete', 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read', 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/write', 'Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action'],
  },
  // Security: Key Vault (RBAC permission model).
  '12338af0-0e69-4776-bea7-57ae8d297424': {
    name: 'Key Vault Crypto User',
    actions: [],
    dataActions: ['Microsoft.KeyVault/vaults/keys/read', 'Microsoft.KeyVault/vaults/keys/update/action', 'Microsoft.KeyVault/vaults/keys/backup/action', 'Microsoft.KeyVault/vaults/keys/encrypt/action', 'Microsoft.KeyVault/vaults/keys/decrypt/action', 'Microsoft.KeyVault/vaults/keys/wrap/action', 'Microsoft.KeyVault/vaults/keys/unwrap/action', 'Microsoft.KeyVault/vaults/keys/sign/action', 'Microsoft.KeyVault/vaults/keys/verify/action'],
  },
  // The operator who rotates the export signing key needs it: Key Vault Crypto User has no keys/create/action.
  '14b46e9e-c2b7-41b4-b07b-48a6ebf60603': {
    name: 'Key Vault Crypto Officer',
    actions: ['Microsoft.Authorization/*/read', 'Microsoft.Insights/alertRules/*', 'Microsoft.Resources/deployments/*', 'Microsoft.Resources/subscriptions/resourceGroups/read', 'Microsoft.Support/*', 'Microsoft.KeyVault/checkNameAvailability/read', 'Microsoft.KeyVault/deletedVaults/read', 'Microsoft.KeyVault/locations/*/read', 'Microsoft.KeyVault/vaults/*/read', 'Microsoft.KeyVault/operations/read'],
    dataActions: ['Microsoft.KeyVault/vaults/keys/*', 'Microsoft.KeyVault/vaults/keyrotationpolicies/*'],
  },
  '4633458b-17de-408a-b874-0445c86b69e6': {
    name: 'Key Vault Secrets User',
    actions: [],
    dataActions: ['Microsoft.KeyVault/vaults/secrets/getSecret/action', 'Microsoft.KeyVault/vaults/secrets/readMetadata/action'],
  },
  // Monitor.
  '3913510d-42f4-4e42-8a64-420c390055eb': {
    name: 'Monitoring Metrics Publisher',
    actions: ['Microsoft.Insights/Register/Action', 'Microsoft.Support/*', 'Microsoft.Resources/subscriptions/resourceGroups/read'],
    dataActions: ['Microsoft.Insights/Metrics/Write', 'Microsoft.Insights/Telemetry/Write'],
  },
};

/** One role assignment as Azure holds it: who, which role, at which scope (a resource id or above). */
export interface RoleAssignmentGrant {
  principalId: string;
  roleDefinitionId: string;
  scope: string;
}

export class UnknownRoleError extends Error {
  override readonly name = 'UnknownRoleError';
}

/** The role GUID of `.../providers/Microsoft.Authorization/roleDefinitions/{guid}`. */
export function roleGuidOf(roleDefinitionId: string): string {
  return roleDefinitionId.split('/').pop()!.toLowerCase();
}

export function roleOf(roleDefinitionId: string): RoleDefinition {
  const role = BUILT_IN_ROLES[roleGuidOf(roleDefinitionId)];
  if (!role) throw new UnknownRoleError(`the stand-in does not know the role ${roleDefinitionId}: add its actions from https://learn.microsoft.com/azure/role-based-access-control/built-in-roles`);
  return role;
}

/** Role-definition wildcards: `*` matches any run of characters, case-insensitively. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 'i');
  return regex.test(action);
}

function roleAllows(role: RoleDefinition, action: string, data: boolean): boolean {
  const allowed = data ? (role.dataActions ?? []) : role.actions;
  const denied = data ? (role.notDataActions ?? []) : (role.notActions ?? []);
  return allowed.some((pattern) => actionMatches(pattern, action)) && !denied.some((pattern) => actionMatches(pattern, action));
}

/** Whether `scope` (a resource id) lies at or under an assignment's scope. */
export function withinScope(assignmentScope: string, scope: string): boolean {
  const a = assignmentScope.toLowerCase().replace(/\/$/, '');
  const s = scope.toLowerCase();
  return s === a || s.startsWith(`${a}/`);
}

/** Azure's authorization decision for one operation of one principal. */
export function isAuthorized(grants: readonly RoleAssignmentGrant[], principalId: string, action: string, scope: string, options: { data?: boolean } = {}): boolean {
  return grants.some((grant) => grant.principalId === principalId && withinScope(grant.scope, scope) && roleAllows(roleOf(grant.roleDefinitionId), action, options.data ?? false));
}
