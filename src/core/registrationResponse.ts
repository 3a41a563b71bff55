// Registration answers as deployed servers send them, made into what RFC 7591 §3.2.1 describes before oauth4webapi
// checks them. Tolerant only where nothing is at stake: the client id, the secret and every other field are still
// checked by oauth4webapi's processDynamicClientRegistrationResponse.
const NEVER_EXPIRES = 0;

/**
 * - `client_secret_expires_at` absent (or null) with a secret: RFC 7591 asks for it, but servers omit it (the MCP
 *   conformance suite's among them); absent is read as 0, "never expires", and the secret is kept.
 * - 200 instead of 201 with a client: glewlwyd answers so; the body is the same registration.
 * Anything else (an error status, a body that is not a JSON object) goes to oauth4webapi untouched.
 */
export async function normalizeRegistrationResponse(response: Response): Promise<Response> {
  if (response.status !== 200 && response.status !== 201) return response;
  const text = await response.text();
  const rebuilt = (body: string) => new Response(body, { status: 201, statusText: 'Created', headers: response.headers });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return rebuilt(text);
  }
  if (!isObject(body) || typeof body.client_secret !== 'string' || (body.client_secret_expires_at !== undefined && body.client_secret_expires_at !== null)) return rebuilt(text);
  return rebuilt(JSON.stringify({ ...body, client_secret_expires_at: NEVER_EXPIRES }));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
