/** Identifier formats checked in more than one room. */

const HEX_GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** A GUID in its 8-4-4-4-12 hex form, any case: Front Door IDs (`X-Azure-FDID`), subscription ids. */
export const GUID_PATTERN = new RegExp(`^${HEX_GUID}$`, 'i');

/** A GUID as `crypto.randomUUID()` writes it (lower case): ids we issue and compare byte for byte. */
export const CANONICAL_GUID_PATTERN = new RegExp(`^${HEX_GUID}$`);
