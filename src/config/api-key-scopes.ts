import type { ApiKeyEntry } from "../crypto/api-keys";
import type { ConfigProblem } from "./variables";

/**
 * API_KEY_SCOPES: a JSON object mapping an API key's name (API_KEYS, `name:key`) to the
 * tenant space ids it may act for, `{"acme":["202007159031"]}`. A key it does not name acts
 * for every served tenant. Every problem is reported against the variable at fault, never
 * with a key's value.
 */
export function parseApiKeyScopes(
  json: string | undefined,
  entries: readonly ApiKeyEntry[],
  servedTenants: ReadonlySet<string>,
  problems: ConfigProblem[],
): ReadonlyMap<string, ReadonlySet<string>> {
  const names = new Set<string>();
  for (const { name } of entries) {
    if (name === undefined) continue;
    if (names.has(name)) {
      problems.push({ variable: "API_KEYS", reason: `names two keys ${name}: each name must be unique` });
    }
    names.add(name);
  }
  const scopes = new Map<string, ReadonlySet<string>>();
  if (json === undefined) return scopes;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({
      variable: "API_KEY_SCOPES",
      reason:
        'must be a JSON object mapping an API key\'s name to tenant space ids, such as {"acme":["202007159031"]}',
    });
    return scopes;
  }
  for (const [name, tenants] of Object.entries(value)) {
    if (!names.has(name)) {
      problems.push({
        variable: "API_KEY_SCOPES",
        reason: `names ${name}, which no entry of API_KEYS is named (name:key)`,
      });
      continue;
    }
    if (!Array.isArray(tenants) || tenants.length === 0 || !tenants.every((id) => typeof id === "string")) {
      problems.push({
        variable: "API_KEY_SCOPES",
        reason: `must give ${name} a non-empty array of tenant space ids`,
      });
      continue;
    }
    if (tenants.some((id) => !servedTenants.has(id))) {
      problems.push({
        variable: "API_KEY_SCOPES",
        reason: `gives ${name} a tenant space not in TENANT_SPACE_IDS`,
      });
      continue;
    }
    scopes.set(name, new Set(tenants));
  }
  return scopes;
}
