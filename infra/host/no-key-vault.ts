/**
 * Stands in for `@azure/keyvault-keys` inside the api package. `@azure/cosmos` imports it for
 * client-side encryption keys (AzureKeyVaultEncryptionKeyResolver), which keyfront never uses;
 * without this the write side would ship a Key Vault client. Constructing it is a bug: it throws.
 */
export class KeyClient {
  constructor() {
    throw new Error('the api Function App has no Key Vault client (Cosmos DB client-side encryption is not used)');
  }
}
