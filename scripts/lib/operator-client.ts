/**
 * The client side of a process's operator API (control-plane/common/operator.ts):
 * every request carries the bearer token. For scripts, benchmarks and tests.
 */
export function operatorFetch(baseUrl: string, token: string, path: string): Promise<Response> {
  return fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/** GET `path` of an operator API as JSON; throws on any answer but 2xx. */
export async function operatorJson<T>(baseUrl: string, token: string, path: string): Promise<T> {
  const response = await operatorFetch(baseUrl, token, path);
  if (!response.ok) throw new Error(`GET ${baseUrl}${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** GET `path` of an operator API as text (e.g. /metrics); throws on any answer but 2xx. */
export async function operatorText(baseUrl: string, token: string, path: string): Promise<string> {
  const response = await operatorFetch(baseUrl, token, path);
  if (!response.ok) throw new Error(`GET ${baseUrl}${path}: ${response.status} ${await response.text()}`);
  return response.text();
}
