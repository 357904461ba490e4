/**
 * The client side of a process's operator API (control-plane/node-toolkit/operator.ts):
 * every request carries the bearer token. For scripts, benchmarks and tests.
 */
export function operatorFetch(baseUrl: string, token: string, path: string): Promise<Response> {
  return fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

/** GET `path` of an operator API; throws on any answer but 2xx. */
async function operatorGet(baseUrl: string, token: string, path: string): Promise<Response> {
  const response = await operatorFetch(baseUrl, token, path);
  if (!response.ok) throw new Error(`GET ${baseUrl}${path}: ${response.status} ${await response.text()}`);
  return response;
}

/** GET `path` of an operator API as JSON. */
export async function operatorJson<T>(baseUrl: string, token: string, path: string): Promise<T> {
  return (await (await operatorGet(baseUrl, token, path)).json()) as T;
}

/** GET `path` of an operator API as text (e.g. /metrics). */
export async function operatorText(baseUrl: string, token: string, path: string): Promise<string> {
  return (await operatorGet(baseUrl, token, path)).text();
}
