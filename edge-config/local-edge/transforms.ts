/** The string transforms Front Door's rules engine and WAF apply to a value before matching it, in order. */
import { unescape } from 'node:querystring';
import type { WafTransform } from '../declaration';

export function applyTransforms(value: string, transforms: readonly WafTransform[]): string {
  let out = value;
  for (const step of transforms) {
    if (step === 'Lowercase') out = out.toLowerCase();
    else if (step === 'Uppercase') out = out.toUpperCase();
    else if (step === 'Trim') out = out.trim();
    else if (step === 'RemoveNulls') out = out.replace(/\0/g, '');
    // Decodes every valid %XX and leaves a malformed one as it is: one bad escape elsewhere in the
    // URL must not keep the rest from being decoded (decodeURIComponent would give up on all of it).
    else if (step === 'UrlDecode') out = unescape(out);
  }
  return out;
}
